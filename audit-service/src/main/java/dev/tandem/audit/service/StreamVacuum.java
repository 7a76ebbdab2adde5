package dev.tandem.audit.service;

import java.sql.Statement;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.quarkus.scheduler.Scheduled;

import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.LedgerUnavailableException;

/**
 * Vacuums the streams table every few seconds. Each stream is one row that every decision batch and verdict batch
 * updates (hundreds of times a second on a busy stream), and PostgreSQL reuses the space of its dead versions on
 * other pages only after a vacuum has recorded it: between vacuums the table grows by a page every few hundred
 * updates, and every lookup of a stream row (the batches' locks and counter updates, GetStream, the refits) reads
 * the dead versions too. Autovacuum wakes once a minute at most (and is off on the benchmark machine, where the table
 * reached 1,400-3,200 pages of 8 kB for three rows in a 3-minute run and PostgreSQL spent about 1 ms of CPU per
 * decision; issue 16). A vacuum of a table this small takes milliseconds and blocks no reader or writer; SKIP_LOCKED
 * skips a round when something holds a conflicting lock.
 */
@ApplicationScoped
public class StreamVacuum {

    private static final Logger LOG = Logger.getLogger(StreamVacuum.class);

    private final Ledger ledger;

    public StreamVacuum(Ledger ledger) {
        this.ledger = ledger;
    }

    @Scheduled(every = "${tandem.audit.ledger.streams-vacuum-interval:5s}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void vacuumStreams() {
        try {
            ledger.withConnection(c -> {
                // VACUUM cannot run inside a transaction: the pool's connections are in autocommit mode
                try (Statement st = c.createStatement()) {
                    st.execute("VACUUM (SKIP_LOCKED) streams");
                }
                return null;
            });
        } catch (LedgerUnavailableException e) {
            LOG.debugf("streams not vacuumed: %s", e.getMessage());
        }
    }
}
