package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

import dev.tandem.audit.AuditReason;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.LedgerDatabase;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;

/**
 * The decision group commit on the real ledger: a batch locks its streams only in its last round trip, which also
 * commits, and its callers are answered after that commit; a confidence alarm, raised in its own transaction right
 * after the batch's commit, is in the ledger before the batch's callers are answered.
 */
@QuarkusTest
class DecisionBatchTests {

    @Inject
    DecisionService decider;
    @Inject
    LedgerQueries queries;
    @Inject
    AuditConfig config;
    @Inject
    StreamVacuum vacuum;

    @BeforeEach
    void clean() throws Exception {
        LedgerDatabase.clean();
    }

    @Test
    void aDecisionWhoseStreamAnotherTransactionHoldsIsAnsweredOnlyAfterItsOwnCommit() throws Exception {
        StreamKey key = new StreamKey("batch-model", "held", "");
        decider.decide(new DecisionRequest("h0", "t", "s", key, 0.9, 0.9, true)); // the stream exists
        try (Connection other = LedgerDatabase.connect()) {
            // another replica's verdict batch holding the stream row
            other.setAutoCommit(false);
            try (Statement st = other.createStatement()) {
                st.executeQuery("SELECT 1 FROM streams WHERE worker_backend = 'batch-model' AND worker_type = 'held' "
                        + "FOR NO KEY UPDATE").close();
            }
            CompletableFuture<DecideOutcome> held = decider.decideAsync(new DecisionRequest("h1", "t", "s", key, 0.8,
                    0.8, true));
            awaitCountWaitingForTheStreamLock();
            assertThat(held).as("not answered before its commit").isNotDone();
            assertThat(LedgerDatabase.storedDecisions("h1")).as("not committed: invisible to others").isZero();

            other.commit();
            DecideOutcome outcome = held.get(10, TimeUnit.SECONDS);
            assertThat(outcome.replayed()).isFalse();
        }
        assertThat(LedgerDatabase.storedDecisions("h1")).isEqualTo(1);
        assertThat(queries.getStream(key).decided()).as("counted once").isEqualTo(2);
    }

    @Test
    void theStreamsTableIsVacuumedThroughThePool() throws Exception {
        decider.decide(new DecisionRequest("v0", "t", "s", new StreamKey("batch-model", "vacuumed", ""), 0.9, 0.9,
                true));
        vacuum.vacuumStreams(); // VACUUM fails inside a transaction block: the pool's connection must be in autocommit
        try (Connection c = LedgerDatabase.connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                        + "WHERE relname = 'streams'")) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); // the statistics lag up to 0.5 s
            boolean vacuumed = rs.next() && rs.getBoolean(1);
            while (!vacuumed && System.nanoTime() < deadline) {
                Thread.sleep(100);
                try (ResultSet again = st.executeQuery("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                        + "WHERE relname = 'streams'")) {
                    vacuumed = again.next() && again.getBoolean(1);
                }
            }
            assertThat(vacuumed).isTrue();
        }
    }

    @Test
    void theLedgerRefusesADecisionWhoseStreamDoesNotExist() throws Exception {
        StreamKey key = new StreamKey("batch-model", "known", "");
        decider.decide(new DecisionRequest("k0", "t", "s", key, 0.9, 0.9, true));
        // A copy of the stored row under another id: accepted for its own stream, refused for a stream never created
        // (decisions reference stream_keys, which only stream creation fills: V9__stream_keys.sql).
        String copy = "INSERT INTO decisions OVERRIDING SYSTEM VALUE SELECT (jsonb_populate_record(NULL::decisions, "
                + "to_jsonb(d) || ?::jsonb)).* FROM decisions d WHERE d.decision_id = 'k0'";
        try (Connection c = LedgerDatabase.connect(); PreparedStatement ps = c.prepareStatement(copy)) {
            ps.setString(1, "{\"decision_id\": \"k1\", \"seq\": -1}");
            assertThat(ps.executeUpdate()).isEqualTo(1);
            ps.setString(1, "{\"decision_id\": \"k2\", \"seq\": -2, \"worker_type\": \"never-created\"}");
            assertThatThrownBy(ps::executeUpdate).isInstanceOf(java.sql.SQLException.class)
                    .satisfies(e -> assertThat(((java.sql.SQLException) e).getSQLState()).isEqualTo("23503"));
        }
        assertThat(LedgerDatabase.storedDecisions("k2")).isZero();

        // A stream inserted as a replica still running the code before V9 does (into streams alone): the trigger
        // gives it its key, so that replica's decisions are accepted during a rolling update.
        try (Connection c = LedgerDatabase.connect(); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO streams SELECT (jsonb_populate_record(NULL::streams, to_jsonb(s) "
                    + "|| '{\"worker_type\": \"never-created\"}'::jsonb)).* FROM streams s "
                    + "WHERE s.worker_type = 'known'");
        }
        try (Connection c = LedgerDatabase.connect(); PreparedStatement ps = c.prepareStatement(copy)) {
            ps.setString(1, "{\"decision_id\": \"k2\", \"seq\": -2, \"worker_type\": \"never-created\"}");
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
    }

    @Test
    void aConfidenceAlarmRaisedByABatchIsInTheLedgerWhenItsCallerIsAnswered() throws Exception {
        StreamKey key = new StreamKey("batch-model", "drifting", "");
        decider.decide(new DecisionRequest("d0", "t", "s", key, 0.9, 0.9, true)); // the stream exists, in probation
        double limit = config.drift().confidenceLimit();
        // A trusted stream with a confidence reference whose statistic is just under its limit; the version bump
        // makes this replica re-read it after its next decision.
        try (Connection c = LedgerDatabase.connect(); Statement st = c.createStatement()) {
            st.executeUpdate(String.format(Locale.ROOT, "UPDATE streams SET state = 'NORMAL', confidence_reference = "
                    + "0.5, confidence_cusum = %f, policy_version = policy_version + 1 WHERE worker_type = 'drifting'",
                    limit - 0.1));
        }
        decider.decide(new DecisionRequest("d1", "t", "s", key, 0.9, 0.9, true)); // the cache then re-reads it

        // An output under the reference raw confidence adds ln(0.3 / 0.2) > 0.1 to the statistic.
        var low = decider.decide(new DecisionRequest("d2", "t", "s", key, 0.1, 0.1, true)).decision();
        assertThat(low.state()).as("decided under the policy before the alarm").isEqualTo(TrustState.NORMAL);

        // Answered: the alarm is already stored, once.
        var stream = queries.getStream(key);
        assertThat(stream.state()).isEqualTo(TrustState.TIGHTENED);
        var changes = queries.listStateChanges("batch-model", "drifting", "", 10);
        assertThat(changes).filteredOn(ch -> ch.reason().contains("unlabelled confidence")).hasSize(1);
        var next = decider.decide(new DecisionRequest("d3", "t", "s", key, 0.99, 0.99, true)).decision();
        assertThat(next.state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(next.reason()).isEqualTo(AuditReason.TIGHTENED);
    }

    /** Waits until a ledger connection waits for a stream row lock in the count statement of a decision batch. */
    private static void awaitCountWaitingForTheStreamLock() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (Connection c = LedgerDatabase.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
                        + "AND query LIKE 'SELECT count(*) FROM (SELECT 1 FROM streams%'")) {
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(20);
            }
        }
        throw new AssertionError("no decision batch waited for the stream lock within 10 s");
    }
}
