package dev.tandem.audit.service;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.quarkus.scheduler.Scheduled;

import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.LedgerUnavailableException;
import dev.tandem.audit.repository.ReviewTaskRepository;
import dev.tandem.audit.repository.StreamRepository;

/**
 * Keeps this replica's view of the ledger current: the stream and review-queue gauges of {@link AuditMetrics} and
 * the cached policies of {@link StreamPolicies}, so both include other replicas' writes.
 */
@ApplicationScoped
public class StreamRefresher {

    private static final Logger LOG = Logger.getLogger(StreamRefresher.class);

    private final Ledger ledger;
    private final StreamRepository streams;
    private final ReviewTaskRepository tasks;
    private final StreamPolicies policies;
    private final AuditMetrics metrics;

    public StreamRefresher(Ledger ledger, StreamRepository streams, ReviewTaskRepository tasks,
            StreamPolicies policies, AuditMetrics metrics) {
        this.ledger = ledger;
        this.streams = streams;
        this.tasks = tasks;
        this.policies = policies;
        this.metrics = metrics;
    }

    /** Refreshes the stream gauges and cached policies from the ledger, so they include other replicas' writes. */
    @Scheduled(every = "${tandem.audit.metrics.refresh-interval:15s}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void refreshStreamGauges() {
        try {
            List<StreamRecord> all = ledger.withConnection(streams::findAll);
            all.forEach(s -> {
                metrics.observe(s);
                policies.put(s);
            });
            metrics.queues(ledger.withConnection(tasks::pendingByQueue));
        } catch (LedgerUnavailableException e) {
            LOG.debugf("stream gauges not refreshed: %s", e.getMessage());
        }
    }
}
