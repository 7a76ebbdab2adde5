package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.LedgerDatabase;
import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.DecisionRepository;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.ReviewTaskRepository;
import dev.tandem.audit.repository.StateChangeRepository;
import dev.tandem.audit.repository.StreamRepository;

/** Verdicts applied in batches ({@link VerdictWriter}) on the real ledger. */
@QuarkusTest
class VerdictBatchTests {

    @Inject
    DecisionService decider;
    @Inject
    VerdictService verdicts;
    @Inject
    ReviewQueueService reviews;
    @Inject
    LedgerQueries queries;
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
    TrustPolicy trustPolicy;
    @Inject
    PolicyFitter fitter;
    @Inject
    AuditConfig config;
    @Inject
    OnboardingPriors onboarding;
    @Inject
    io.agroal.api.AgroalDataSource dataSource;

    @BeforeEach
    void clean() throws Exception {
        LedgerDatabase.clean();
    }

    @Test
    void aVerdictRefusedInABatchFailsOnlyItselfAndTheOthersAreStoredInOrder() throws Exception {
        StreamKey key = new StreamKey("batch-backend", "classify", "");
        for (int i = 1; i <= 5; i++) {
            decider.decide(new DecisionRequest("b" + i, "task-b" + i, "s", key, 0.9, 0.9, true));
        }
        verdicts.recordVerdict(new VerdictRequest("b2", Verdict.ACCEPTED, "oracle", ""));
        // b5 waits in the people's queue (put there as a shadow sample without payload would be); alice claims it.
        try (Connection c = LedgerDatabase.connect(); var ps = c.prepareStatement(
                "INSERT INTO review_tasks (decision_id, queue) VALUES ('b5', 'HUMAN')")) {
            ps.executeUpdate();
        }
        var claimed = reviews.claim(ReviewQueue.HUMAN, "alice", 1, 600, "b5");
        assertThat(claimed).hasSize(1);

        // A writer of its own, not started: the batch is exactly what is queued when the test writes it.
        VerdictWriter writer = new VerdictWriter(ledger, streams, decisions, stateChanges, tasks, trustPolicy, fitter,
                config, onboarding);
        var b1 = writer.submit(new VerdictRequest("b1", Verdict.ACCEPTED, "oracle", ""), null);
        var b2 = writer.submit(new VerdictRequest("b2", Verdict.REJECTED, "oracle", ""), null);
        var missing = writer.submit(new VerdictRequest("never-decided", Verdict.ACCEPTED, "oracle", ""), null);
        var b3 = writer.submit(new VerdictRequest("b3", Verdict.REJECTED, "oracle", ""), null);
        var b5 = writer.submit(new VerdictRequest("b5", Verdict.ACCEPTED, "bob", ""), "not-alices-token");
        var b4 = writer.submit(new VerdictRequest("b4", Verdict.ACCEPTED, "oracle", ""), null);
        var b1again = writer.submit(new VerdictRequest("b1", Verdict.ACCEPTED, "oracle", ""), null);
        writer.writeBatch(null);

        assertThat(failure(b2)).isInstanceOf(ConflictingVerdictException.class);
        assertThat(failure(missing)).isInstanceOf(NotFoundException.class);
        assertThat(failure(b5)).isInstanceOf(LeaseHeldException.class);
        // Applied one after the other on the stream as the previous verdict of the batch left it.
        assertThat(b1.done.get().outcome().duplicate()).isFalse();
        assertThat(b1.done.get().outcome().stream().reviewed()).isEqualTo(2);
        assertThat(b3.done.get().outcome().stream().reviewed()).isEqualTo(3);
        assertThat(b3.done.get().outcome().stream().rejected()).isEqualTo(1);
        assertThat(b4.done.get().outcome().stream().reviewed()).isEqualTo(4);
        assertThat(b1again.done.get().outcome().duplicate()).as("a replay within the batch").isTrue();
        assertThat(b1again.done.get().outcome().stream().reviewed()).isEqualTo(4);
        assertThat(b1.taskId).isEqualTo("task-b1");

        var stream = queries.getStream(key);
        assertThat(stream.reviewed()).isEqualTo(4);
        assertThat(stream.rejected()).isEqualTo(1);
        try (Connection c = LedgerDatabase.connect()) {
            assertThat(count(c, "SELECT count(*) FROM verdicts")).isEqualTo(4);
            assertThat(count(c, "SELECT count(*) FROM verdicts WHERE decision_id = 'b2' AND verdict = 'ACCEPTED'"))
                    .as("the stored verdict is unchanged").isEqualTo(1);
            assertThat(count(c, "SELECT count(*) FROM verdicts WHERE decision_id = 'b5'")).isZero();
            assertThat(count(c, "SELECT count(*) FROM review_tasks WHERE decision_id = 'b5'"))
                    .as("the claimed task stays").isEqualTo(1);
        }
        // Through the service, the refusals are the exceptions a single verdict always threw.
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> verdicts.recordVerdict(new VerdictRequest("b3", Verdict.ACCEPTED, "oracle", "")))
                .isInstanceOf(ConflictingVerdictException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> reviews.submit(new VerdictRequest("b5", Verdict.ACCEPTED, "bob", ""), "not-alices-token"))
                .isInstanceOf(LeaseHeldException.class);
        assertThat(reviews.submit(new VerdictRequest("b5", Verdict.ACCEPTED, "alice", ""),
                claimed.get(0).claimToken()).stream().reviewed()).isEqualTo(5);
    }

    @Test
    void manyConcurrentVerdictsOnOneStreamAreAllAppliedOneAfterTheOther() throws Exception {
        StreamKey key = new StreamKey("batch-backend", "concurrent", "");
        int n = 240;
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> decided = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String id = "c" + i;
                decided.add(pool.submit(() -> decider.decide(new DecisionRequest(id, "t", "s", key, 0.9, 0.9,
                        true))));
            }
            for (Future<?> f : decided) {
                f.get(30, TimeUnit.SECONDS);
            }
            CountDownLatch start = new CountDownLatch(1);
            List<Future<VerdictOutcome>> outcomes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String id = "c" + i;
                Verdict v = i % 6 == 0 ? Verdict.REJECTED : Verdict.ACCEPTED;
                outcomes.add(pool.submit((Callable<VerdictOutcome>) () -> {
                    start.await();
                    return verdicts.recordVerdict(new VerdictRequest(id, v, "oracle", ""));
                }));
            }
            start.countDown();
            Set<Long> reviewedSeen = new TreeSet<>();
            for (Future<VerdictOutcome> f : outcomes) {
                VerdictOutcome o = f.get(60, TimeUnit.SECONDS);
                assertThat(o.duplicate()).isFalse();
                reviewedSeen.add(o.stream().reviewed());
            }
            // Each verdict saw the stream as exactly one predecessor left it: no lost update, no double count.
            assertThat(reviewedSeen).hasSize(n).first().isEqualTo(1L);
            assertThat(reviewedSeen).last().isEqualTo((long) n);
        } finally {
            pool.shutdownNow();
        }
        var stream = queries.getStream(key);
        assertThat(stream.reviewed()).isEqualTo(n);
        assertThat(stream.rejected()).isEqualTo(n / 6);
        assertThat(stream.decided()).as("Decide's counter is not overwritten by the verdict writes").isEqualTo(n);
        try (Connection c = LedgerDatabase.connect()) {
            assertThat(count(c, "SELECT count(*) FROM verdicts")).isEqualTo(n);
            assertThat(count(c, "SELECT count(*) FROM verdicts WHERE verdict = 'REJECTED'")).isEqualTo(n / 6);
        }
    }

    @Test
    void aFailedCommitFailsEveryVerdictOfTheBatchAndARetryStoresThem() throws Exception {
        StreamKey key = new StreamKey("batch-backend", "commit", "");
        for (int i = 1; i <= 3; i++) {
            decider.decide(new DecisionRequest("f" + i, "t", "s", key, 0.9, 0.9, true));
        }
        // A ledger whose connections refuse to commit (rollback still works).
        Ledger failing = new Ledger(dataSource) {
            @Override
            public <T> T withConnection(dev.tandem.audit.repository.SqlWork<T> work) {
                return super.withConnection(c -> work.run((Connection) java.lang.reflect.Proxy.newProxyInstance(
                        Connection.class.getClassLoader(), new Class<?>[] { Connection.class }, (proxy, m, args) -> {
                            if (m.getName().equals("commit")) {
                                throw new java.sql.SQLException("injected: commit failed");
                            }
                            try {
                                return m.invoke(c, args);
                            } catch (java.lang.reflect.InvocationTargetException e) {
                                throw e.getCause();
                            }
                        })));
            }
        };
        VerdictWriter broken = new VerdictWriter(failing, streams, decisions, stateChanges, tasks, trustPolicy,
                fitter, config, onboarding);
        List<VerdictWriter.Pending> batch = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            batch.add(broken.submit(new VerdictRequest("f" + i, Verdict.ACCEPTED, "oracle", ""), null));
        }
        broken.writeBatch(null);
        for (VerdictWriter.Pending p : batch) {
            assertThat(failure(p)).as("retried by the caller's @Retry")
                    .isInstanceOf(dev.tandem.audit.repository.LedgerUnavailableException.class);
        }
        try (Connection c = LedgerDatabase.connect()) {
            assertThat(count(c, "SELECT count(*) FROM verdicts")).as("rolled back").isZero();
        }
        assertThat(queries.getStream(key).reviewed()).isZero();
        // The callers' retries (same decision ids) are then stored once each.
        for (int i = 1; i <= 3; i++) {
            assertThat(verdicts.recordVerdict(new VerdictRequest("f" + i, Verdict.ACCEPTED, "oracle", ""))
                    .duplicate()).isFalse();
        }
        assertThat(queries.getStream(key).reviewed()).isEqualTo(3);
    }

    /**
     * A verdict whose own statement fails (here a trigger of the real ledger refuses its row) fails alone: the batch
     * is written again one verdict at a time and the others of the batch are stored, in order.
     */
    @Test
    void aVerdictWhoseStatementFailsFailsAloneAndTheRestOfItsBatchIsStored() throws Exception {
        StreamKey key = new StreamKey("batch-backend", "poison", "");
        for (int i = 1; i <= 3; i++) {
            decider.decide(new DecisionRequest("p" + i, "t", "s", key, 0.9, 0.9, true));
        }
        try (Connection c = LedgerDatabase.connect(); var st = c.createStatement()) {
            st.execute("CREATE FUNCTION refuse_p2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "IF NEW.decision_id = 'p2' THEN RAISE EXCEPTION 'injected: verdict row refused'; END IF; "
                    + "RETURN NEW; END $$");
            st.execute("CREATE TRIGGER refuse_p2 BEFORE INSERT ON verdicts FOR EACH ROW EXECUTE FUNCTION refuse_p2()");
        }
        try {
            VerdictWriter writer = new VerdictWriter(ledger, streams, decisions, stateChanges, tasks, trustPolicy,
                    fitter, config, onboarding);
            List<VerdictWriter.Pending> batch = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                batch.add(writer.submit(new VerdictRequest("p" + i, i == 3 ? Verdict.REJECTED : Verdict.ACCEPTED,
                        "oracle", ""), null));
            }
            writer.writeBatch(null);

            assertThat(failure(batch.get(0))).isNull();
            assertThat(failure(batch.get(1))).isInstanceOf(dev.tandem.audit.repository.LedgerUnavailableException.class);
            assertThat(failure(batch.get(2))).isNull();
            var stream = queries.getStream(key);
            assertThat(stream.reviewed()).isEqualTo(2);
            assertThat(stream.rejected()).isEqualTo(1);
            try (Connection c = LedgerDatabase.connect()) {
                assertThat(count(c, "SELECT count(*) FROM verdicts WHERE decision_id IN ('p1', 'p3')")).isEqualTo(2);
                assertThat(count(c, "SELECT count(*) FROM verdicts WHERE decision_id = 'p2'")).isZero();
            }
        } finally {
            try (Connection c = LedgerDatabase.connect(); var st = c.createStatement()) {
                st.execute("DROP TRIGGER refuse_p2 ON verdicts");
                st.execute("DROP FUNCTION refuse_p2()");
            }
        }
    }

    private static Throwable failure(VerdictWriter.Pending p) {
        try {
            p.done.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static long count(Connection c, String sql) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
