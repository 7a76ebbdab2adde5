package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

import dev.tandem.audit.AuditReason;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.LedgerDatabase;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.DecisionRepository;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.ReviewTaskRepository;
import dev.tandem.audit.repository.StateChangeRepository;
import dev.tandem.audit.repository.StreamRepository;

/**
 * A second audit-service replica in the same JVM: its own policy cache and its own group-commit writers on the
 * shared PostgreSQL ledger, exactly what a second pod has (nothing else is kept in memory). Both write one stream
 * at once; then one replica's state change must govern the other's next decision, and a "restarted" replica (empty
 * caches) must carry on from the ledger.
 */
@QuarkusTest
class TwoReplicasTests {

    @Inject
    DecisionService deciderA;
    @Inject
    VerdictService verdictsA;
    @Inject
    LedgerQueries queriesA;
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
    PolicyFitter fitter;
    @Inject
    AuditMetrics metrics;
    @Inject
    AuditConfig config;
    @Inject
    OnboardingPriors onboarding;

    private Replica replicaA;
    private DecisionWriter writerB;
    private VerdictWriter verdictWriterB;
    private Replica replicaB;

    /** One replica's decide, verdict and query beans. */
    private record Replica(DecisionService decider, VerdictService verdicts, LedgerQueries queries) {

        DecideOutcome decide(DecisionRequest request) {
            return decider.decide(request);
        }

        VerdictOutcome recordVerdict(VerdictRequest verdict) {
            return verdicts.recordVerdict(verdict);
        }

        StreamRecord getStream(StreamKey key) {
            return queries.getStream(key);
        }
    }

    /** A replica with its own policy cache and writer on the shared ledger. */
    private Replica replica(DecisionWriter writer, VerdictWriter verdictWriter, StreamPolicies cache) {
        return new Replica(
                new DecisionService(ledger, streams, stateChanges, auditPolicy, trustPolicy, writer, cache, metrics,
                        config),
                new VerdictService(ledger, streams, decisions, stateChanges, tasks, trustPolicy, fitter, cache,
                        metrics, config, onboarding, verdictWriter),
                new LedgerQueries(ledger, streams, decisions, stateChanges, metrics, config));
    }

    @BeforeEach
    void secondReplica() throws Exception {
        LedgerDatabase.clean();
        StreamPolicies cacheB = new StreamPolicies();
        verdictWriterB = new VerdictWriter(ledger, streams, decisions, stateChanges, tasks, trustPolicy, fitter,
                config, onboarding);
        // replica B's ledger writer writes its decisions and its verdicts, as in production
        writerB = new DecisionWriter(ledger, decisions, streams, tasks, stateChanges, trustPolicy, cacheB, metrics,
                config, verdictWriterB);
        writerB.start();
        replicaB = replica(writerB, verdictWriterB, cacheB);
        replicaA = new Replica(deciderA, verdictsA, queriesA);
    }

    @AfterEach
    void stopSecondReplica() {
        writerB.stop();
    }

    @Test
    void twoReplicasWritingOneStreamKeepCountersAndHistoryConsistent() throws Exception {
        StreamKey key = new StreamKey("embedded-minilm", "replicas", "");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> writers = new ArrayList<>();
        int perThread = 30;
        for (int t = 0; t < 8; t++) {
            Replica replica = t % 2 == 0 ? replicaA : replicaB;
            int thread = t;
            writers.add(pool.submit((Callable<Integer>) () -> {
                start.await();
                int firsts = 0;
                for (int i = 0; i < perThread; i++) {
                    String own = "r" + thread + "-" + i;
                    replica.decide(new DecisionRequest(own, "task", "s", key, 0.9, 0.9, true));
                    replica.recordVerdict(new VerdictRequest(own, i % 9 == 4 ? Verdict.REJECTED : Verdict.ACCEPTED,
                            "oracle", ""));
                    String shared = "shared-" + i; // both replicas decide and review the same output
                    replica.decide(new DecisionRequest(shared, "task", "s", key, 0.9, 0.9, true));
                    if (!replica.recordVerdict(new VerdictRequest(shared, Verdict.ACCEPTED, "oracle", ""))
                            .duplicate()) {
                        firsts++;
                    }
                }
                return firsts;
            }));
        }
        start.countDown();
        int sharedFirsts = 0;
        for (Future<Integer> f : writers) {
            sharedFirsts += f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(sharedFirsts).as("each shared verdict applied once").isEqualTo(perThread);

        StreamRecord s = replicaA.getStream(key);
        try (Connection c = LedgerDatabase.connect()) {
            assertThat(s.decided()).isEqualTo(8 * perThread + perThread)
                    .isEqualTo(count(c, "SELECT count(*) FROM decisions WHERE worker_type = 'replicas'"));
            assertThat(s.reviewed()).isEqualTo(count(c, "SELECT count(*) FROM verdicts JOIN decisions "
                    + "USING (decision_id) WHERE worker_type = 'replicas'"));
            assertThat(s.rejected()).isEqualTo(count(c, "SELECT count(*) FROM verdicts JOIN decisions "
                    + "USING (decision_id) WHERE worker_type = 'replicas' AND verdict = 'REJECTED'")).isPositive();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT from_state, to_state FROM state_changes WHERE worker_type = 'replicas' ORDER BY id");
                    ResultSet rs = ps.executeQuery()) {
                String previous = null;
                while (rs.next()) {
                    assertThat(rs.getString(1)).isEqualTo(previous);
                    previous = rs.getString(2);
                }
                assertThat(previous).isEqualTo(s.state().name());
            }
        }
    }

    @Test
    void aStateChangeByOneReplicaGovernsTheOthersNextDecisionAndSurvivesARestart() {
        StreamKey key = new StreamKey("embedded-minilm", "handover", "");
        // replica A caches the stream in probation
        replicaA.decide(new DecisionRequest("h0", "t", "s", key, 0.9, 0.9, true));
        // replica B earns it NORMAL with 95 clean reviews
        for (int i = 1; i <= 95; i++) {
            replicaB.decide(new DecisionRequest("h" + i, "t", "s", key, 0.95, 0.95, true));
            replicaB.recordVerdict(new VerdictRequest("h" + i, Verdict.ACCEPTED, "oracle", ""));
        }
        assertThat(replicaB.getStream(key).state()).isEqualTo(TrustState.NORMAL);
        // A's first decision after that commits under its stale cache and learns the new policy version...
        replicaA.decide(new DecisionRequest("a1", "t", "s", key, 0.95, 0.95, true));
        // ...so the next one is decided under NORMAL
        var d = replicaA.decide(new DecisionRequest("a2", "t", "s", key, 0.95, 0.95, true)).decision();
        assertThat(d.state()).isEqualTo(TrustState.NORMAL);
        assertThat(d.reason()).isIn(AuditReason.TRUSTED, AuditReason.OUTGOING_LIMIT, AuditReason.RANDOM_SAMPLE);

        // A restart keeps nothing but the ledger: a fresh replica decides with the stored policy at once.
        StreamRecord before = replicaA.getStream(key);
        StreamPolicies fresh = new StreamPolicies();
        DecisionWriter freshWriter = new DecisionWriter(ledger, decisions, streams, tasks, stateChanges, trustPolicy,
                fresh, metrics, config);
        freshWriter.start();
        try {
            Replica restarted = replica(freshWriter, verdictWriterB, fresh);
            assertThat(restarted.getStream(key)).usingRecursiveComparison().isEqualTo(before);
            var after = restarted.decide(new DecisionRequest("a3", "t", "s", key, 0.35, 0.35, true)).decision();
            assertThat(after.state()).isEqualTo(TrustState.NORMAL);
            assertThat(after.reason()).isEqualTo(AuditReason.LOW_CONFIDENCE);
            assertThat(after.blockingProbability()).isEqualTo(1.0);
            assertThat(restarted.decide(new DecisionRequest("a2", "t", "s", key, 0.1, 0.1, true)).replayed())
                    .as("the decision taken before the restart is replayed, not re-decided").isTrue();
        } finally {
            freshWriter.stop();
        }
    }

    private static long count(Connection c, String sql) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
