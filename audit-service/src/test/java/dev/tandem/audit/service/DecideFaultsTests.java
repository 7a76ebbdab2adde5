package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;

import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.LedgerDatabase;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.DecisionRepository;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.LedgerUnavailableException;
import dev.tandem.audit.repository.ReviewTaskRepository;
import dev.tandem.audit.repository.SqlWork;
import dev.tandem.audit.repository.StateChangeRepository;
import dev.tandem.audit.repository.StreamRepository;

/**
 * Decide when the group commit fails or stalls, on the real ledger with a fault put between the writer and it: a
 * failed batch is retried and stored once; a decision still queued when its caller gives up is withdrawn, never
 * written afterwards, and a retry with the same id is then a fresh write; one already in a stalled batch is
 * committed, and a retry gets the stored answer.
 */
@QuarkusTest
class DecideFaultsTests {

    @Inject
    AgroalDataSource dataSource;
    @Inject
    Ledger ledger;
    @Inject
    StreamRepository streams;
    @Inject
    DecisionRepository decisions;
    @Inject
    StateChangeRepository stateChanges;
    @Inject
    ReviewTaskRepository tasks;
    @Inject
    AuditPolicy auditPolicy;
    @Inject
    TrustPolicy trustPolicy;
    @Inject
    AuditMetrics metrics;
    @Inject
    AuditConfig config;

    /** The writer's ledger: fails the next {@code failures} batches, or holds every batch while {@code hold} is set. */
    private final class FaultyLedger extends Ledger {
        final AtomicInteger failures = new AtomicInteger();
        final AtomicInteger held = new AtomicInteger();
        volatile CountDownLatch hold;

        FaultyLedger() {
            super(dataSource);
        }

        @Override
        public <T> T withConnection(SqlWork<T> work) {
            if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new LedgerUnavailableException("injected: connection refused", null);
            }
            CountDownLatch h = hold;
            if (h != null) {
                held.incrementAndGet();
                try {
                    h.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return super.withConnection(work);
        }
    }

    private FaultyLedger faulty;
    private DecisionWriter writer;
    private DecisionService service;

    @BeforeEach
    void replicaWithFaultyWriter() throws Exception {
        LedgerDatabase.clean();
        faulty = new FaultyLedger();
        StreamPolicies cache = new StreamPolicies();
        writer = new DecisionWriter(faulty, decisions, streams, tasks, stateChanges, trustPolicy, cache, metrics,
                config);
        writer.start();
        service = new DecisionService(ledger, streams, stateChanges, auditPolicy, trustPolicy, writer, cache, metrics,
                config);
    }

    @AfterEach
    void stopWriter() {
        CountDownLatch h = faulty.hold;
        if (h != null) {
            h.countDown();
        }
        writer.stop();
    }

    @Test
    void aFailedBatchIsRetriedAndTheDecisionStoredOnce() throws Exception {
        StreamKey key = new StreamKey("faulty-model", "retried", "");
        faulty.failures.set(2); // the first attempt and the first retry fail; the second retry commits

        DecideOutcome outcome = service.decide(new DecisionRequest("r1", "t", "s", key, 0.9, 0.9, true));

        assertThat(outcome.replayed()).isFalse();
        assertThat(LedgerDatabase.storedDecisions("r1")).isEqualTo(1);
        assertThat(ledger.withConnection(c -> streams.find(c, key)).orElseThrow().decided()).isEqualTo(1);
    }

    @Test
    void aBatchThatFailsOnEveryAttemptFailsTheCallAndStoresNothing() throws Exception {
        StreamKey key = new StreamKey("faulty-model", "down", "");
        service.decide(new DecisionRequest("d0", "t", "s", key, 0.9, 0.9, true)); // the stream exists
        faulty.failures.set(3);

        assertThatThrownBy(() -> service.decide(new DecisionRequest("d1", "t", "s", key, 0.9, 0.9, true)))
                .isInstanceOf(LedgerUnavailableException.class).isNotInstanceOf(LedgerBusyException.class);
        assertThat(LedgerDatabase.storedDecisions("d1")).isZero();
    }

    @Test
    void aDecisionNotCommittedInTimeIsWithdrawnAndARetryWritesIt() throws Exception {
        StreamKey key = new StreamKey("faulty-model", "stalled", "");
        service.decide(new DecisionRequest("s0", "t", "s", key, 0.9, 0.9, true)); // the stream exists
        faulty.hold = new CountDownLatch(1);
        // Every writer takes one decision and stalls in the ledger...
        int writers = config.ledger().writers();
        List<CompletableFuture<DecideOutcome>> stalled = new ArrayList<>();
        for (int w = 1; w <= writers; w++) {
            stalled.add(service.decideAsync(new DecisionRequest("s" + w, "t", "s", key, 0.9, 0.9, true)));
            awaitHeld(w);
        }
        // ...so this one waits in the queue until its caller gives up.
        assertThatThrownBy(() -> service.decide(new DecisionRequest("late", "t", "s", key, 0.9, 0.9, true)))
                .isInstanceOf(LedgerBusyException.class);

        // The stalled ones gave up too (they waited as long), but their batches were past the point of withdrawal:
        faulty.hold.countDown();
        faulty.hold = null;
        for (CompletableFuture<DecideOutcome> f : stalled) {
            assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(LedgerBusyException.class);
        }
        // The writers have drained the queue (another decision behind it is committed): "late" was skipped...
        service.decide(new DecisionRequest("next", "t", "s", key, 0.9, 0.9, true));
        assertThat(LedgerDatabase.storedDecisions("late")).isZero();
        // ...while the stalled ones were committed, so a caller's retry gets the stored answer: nothing lost.
        for (int w = 1; w <= writers; w++) {
            assertThat(LedgerDatabase.storedDecisions("s" + w)).isEqualTo(1);
            assertThat(service.decide(new DecisionRequest("s" + w, "t", "s", key, 0.9, 0.9, true)).replayed())
                    .isTrue();
        }

        DecideOutcome retried = service.decide(new DecisionRequest("late", "t", "s", key, 0.9, 0.9, true));
        assertThat(retried.replayed()).isFalse();
        assertThat(LedgerDatabase.storedDecisions("late")).isEqualTo(1);
        // s0, the stalled ones, "next" and "late"
        assertThat(ledger.withConnection(c -> streams.find(c, key)).orElseThrow().decided())
                .isEqualTo(writers + 3);
    }

    /**
     * A record the database refuses for its content (here a CHECK constraint the test adds; in production a gap in
     * the request checks, such as the NUL characters that reached it before they were checked) fails alone, as a
     * refusal its caller does not retry, while the decisions batched with it are committed: a failed batch used to
     * fail every caller in it, and the refused one came back with each of their retries.
     */
    @Test
    void aDecisionTheLedgerRefusesFailsAloneAndTheDecisionsBatchedWithItAreCommitted() throws Exception {
        StreamKey key = new StreamKey("faulty-model", "refused", "");
        service.decide(new DecisionRequest("p0", "t", "s", key, 0.9, 0.9, true)); // the stream exists
        try (var c = LedgerDatabase.connect(); var st = c.createStatement()) {
            st.execute("ALTER TABLE decisions ADD CONSTRAINT refused_in_test CHECK (decision_id NOT LIKE 'poison%') "
                    + "NOT VALID");
        }
        try {
            // every writer stalls with one decision, so that the rest queue up and are taken as one batch
            faulty.hold = new CountDownLatch(1);
            int writers = config.ledger().writers();
            List<CompletableFuture<DecideOutcome>> clean = new ArrayList<>();
            for (int w = 1; w <= writers; w++) {
                clean.add(service.decideAsync(new DecisionRequest("held-" + w, "t", "s", key, 0.9, 0.9, true)));
                awaitHeld(w);
            }
            for (int i = 0; i < 10; i++) {
                clean.add(service.decideAsync(new DecisionRequest("clean-" + i, "t", "s", key, 0.9, 0.9, true)));
            }
            var poison = service.decideAsync(new DecisionRequest("poison", "t", "s", key, 0.9, 0.9, true));
            for (int i = 10; i < 20; i++) {
                clean.add(service.decideAsync(new DecisionRequest("clean-" + i, "t", "s", key, 0.9, 0.9, true)));
            }
            faulty.hold.countDown();
            faulty.hold = null;

            for (CompletableFuture<DecideOutcome> f : clean) {
                assertThat(f.get(20, TimeUnit.SECONDS).replayed()).isFalse();
            }
            assertThatThrownBy(() -> poison.get(20, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(dev.tandem.audit.repository.LedgerRefusedException.class)
                    .hasMessageContaining("poison");
            assertThat(LedgerDatabase.storedDecisions("poison")).isZero();
            // p0, the held ones and the 20 clean ones, each counted once
            assertThat(ledger.withConnection(c -> streams.find(c, key)).orElseThrow().decided())
                    .isEqualTo(1 + writers + 20);
        } finally {
            try (var c = LedgerDatabase.connect(); var st = c.createStatement()) {
                st.execute("ALTER TABLE decisions DROP CONSTRAINT refused_in_test");
            }
        }
    }

    private void awaitHeld(int writers) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (faulty.held.get() < writers && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(faulty.held.get()).isEqualTo(writers);
    }
}
