package dev.tandem.oracle.service;

import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.repository.SubmittedTaskRepository;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Instant;

/**
 * Deletes submitted tasks that finished longer ago than {@code tandem.oracle.tasks.submitted.retention}, so the
 * task store does not grow without bound. In batches, so one run never holds a long transaction; every replica may
 * run it (a task deleted twice is simply not found the second time).
 */
@ApplicationScoped
public class FinishedTaskRetention {

    private static final Logger LOG = Logger.getLogger(FinishedTaskRetention.class);
    static final int BATCH = 1000;

    private final SubmittedTaskRepository store;
    private final OracleConfig config;

    public FinishedTaskRetention(SubmittedTaskRepository store, OracleConfig config) {
        this.store = store;
        this.config = config;
    }

    @Scheduled(every = "${tandem.oracle.tasks.submitted.retention-check}", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        try {
            purge(Instant.now(Clock.systemUTC()));
        } catch (RuntimeException e) {
            LOG.warnf("deleting finished tasks failed, retried at the next check: %s", e.getMessage());
        }
    }

    /** Deletes the tasks that finished before {@code now} minus the retention; returns how many. */
    public int purge(Instant now) {
        var cutoff = now.minus(config.tasks().submitted().retention());
        int deleted = 0;
        int batch;
        do {
            batch = store.deleteFinishedBefore(cutoff, BATCH);
            deleted += batch;
        } while (batch == BATCH);
        if (deleted > 0) {
            LOG.infof("deleted %d submitted tasks that finished before %s", deleted, cutoff);
        }
        return deleted;
    }
}
