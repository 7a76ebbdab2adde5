package dev.tandem.audit.repository;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.calibration.CalibrationMap;

/**
 * The {@code streams} table: trust records and the decision policy in force. Longer than most classes because it
 * holds every statement on that wide table and the one mapping of its rows, so a column is added in one place.
 */
@ApplicationScoped
public class StreamRepository {

    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private static final String COLUMNS = "worker_backend, worker_type, tenant, state, decided, review_requested, "
            + "reviewed, rejected, consecutive_accepted, state_reviewed, state_rejected, recent_outcomes, "
            + "sampling_rate, confidence_threshold, error_rate_upper_bound, state_since, version, policy_version, "
            + "window_since_seq, window_since, raw_threshold, threshold_certified, threshold_pass_share, certification, blocking_rate, "
            + "calibration, fitted_reviews, sample_consecutive_accepted, samples_since_rejection, outcome_cusum, "
            + "confidence_cusum, confidence_reference, drift_alarms, previous_window_since_seq, confirmation_llr, "
            + "window_decided, error_rate, "
            + "outgoing_error_rate, outgoing_error_lower, outgoing_error_upper, projected_pass_share, cusum_base_seq, "
            + "outcome_limit";
    private static final String BY_KEY = " WHERE worker_backend = ? AND worker_type = ? AND tenant = ?";

    public Optional<StreamRecord> find(Connection c, StreamKey key) throws SQLException {
        return findOne(c, "SELECT " + COLUMNS + " FROM streams" + BY_KEY, key);
    }

    /**
     * Reads and row-locks the stream until the transaction ends, so concurrent verdicts apply one at a time. NO KEY
     * UPDATE: it serialises with other writers of the row but not with the key-share locks that inserting a
     * decision (its foreign key) takes.
     */
    public Optional<StreamRecord> findForUpdate(Connection c, StreamKey key) throws SQLException {
        return findOne(c, "SELECT " + COLUMNS + " FROM streams" + BY_KEY + " FOR NO KEY UPDATE", key);
    }

    /**
     * Reads and row-locks (NO KEY UPDATE, as {@link #findForUpdate}) the streams a verdict batch applies to, in one
     * statement and in the same order as the decision batch's count ({@link #countDecisionsAndCommit}), so a verdict batch and a decision batch never
     * wait on each other in opposite orders. Returns them by key; a missing stream is absent from the map.
     */
    public Map<StreamKey, StreamRecord> findAllForUpdate(Connection c, List<StreamKey> keys)
            throws SQLException {
        Map<StreamKey, StreamRecord> found = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM (SELECT " + COLUMNS + " FROM streams "
                + "WHERE (worker_backend, worker_type, tenant) IN (SELECT * FROM unnest(?::text[], ?::text[], "
                + "?::text[])) ORDER BY worker_backend COLLATE \"C\", worker_type COLLATE \"C\", tenant COLLATE \"C\" "
                + "FOR NO KEY UPDATE) locked")) {
            setKeys(c, ps, 1, keys);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    StreamRecord s = map(rs);
                    found.put(s.key(), s);
                }
            }
        }
        return found;
    }

    private static void setKeys(Connection c, PreparedStatement ps, int first, List<StreamKey> keys)
            throws SQLException {
        ps.setArray(first, c.createArrayOf("text", keys.stream().map(StreamKey::workerBackend).toArray()));
        ps.setArray(first + 1, c.createArrayOf("text", keys.stream().map(StreamKey::workerType).toArray()));
        ps.setArray(first + 2, c.createArrayOf("text", keys.stream().map(StreamKey::tenant).toArray()));
    }

    /** Like {@link #findForUpdate} but empty at once when another transaction holds the lock. */
    public Optional<StreamRecord> findForUpdateSkipLocked(Connection c, StreamKey key) throws SQLException {
        return findOne(c, "SELECT " + COLUMNS + " FROM streams" + BY_KEY + " FOR NO KEY UPDATE SKIP LOCKED", key);
    }

    public List<StreamRecord> findAll(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM streams ORDER BY worker_backend, worker_type, tenant")) {
            try (ResultSet rs = ps.executeQuery()) {
                List<StreamRecord> streams = new ArrayList<>();
                while (rs.next()) {
                    streams.add(map(rs));
                }
                return streams;
            }
        }
    }

    /**
     * Inserts a new stream unless another request (or replica) created it first; true when this call did. Its key
     * goes into stream_keys (what decisions reference) by the table's trigger, in the same transaction
     * (V9__stream_keys.sql).
     */
    public boolean insertIfAbsent(Connection c, StreamRecord s) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO streams (worker_backend, worker_type, tenant, "
                + "state, sampling_rate, confidence_threshold, error_rate_upper_bound, state_since, raw_threshold, "
                + "window_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            setKey(ps, 1, s.key());
            ps.setString(4, s.state().name());
            ps.setDouble(5, s.samplingRate());
            ps.setDouble(6, s.confidenceThreshold());
            ps.setDouble(7, s.errorRateUpperBound());
            Rows.setInstant(ps, 8, s.stateSince());
            ps.setDouble(9, s.rawThreshold());
            Rows.setInstant(ps, 10, s.windowSince());
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Writes everything but the decision counters (Decide increments those, and the confidence CUSUM, atomically in
     * SQL; a stale copy must not overwrite them). Call under the row lock.
     */
    public void update(Connection c, StreamRecord s) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE streams SET state = ?, reviewed = ?, rejected = ?, "
                + "consecutive_accepted = ?, state_reviewed = ?, state_rejected = ?, recent_outcomes = ?, "
                + "sampling_rate = ?, confidence_threshold = ?, error_rate_upper_bound = ?, state_since = ?, "
                + "version = ?, policy_version = ?, window_since_seq = ?, window_since = ?, raw_threshold = ?, "
                + "threshold_certified = ?, threshold_pass_share = ?, certification = ?, blocking_rate = ?, "
                + "calibration = ?::jsonb, "
                + "fitted_reviews = ?, sample_consecutive_accepted = ?, samples_since_rejection = ?, "
                + "outcome_cusum = ?, confidence_cusum = ?, confidence_reference = ?, drift_alarms = ?, "
                + "previous_window_since_seq = ?, confirmation_llr = ?, "
                + "window_decided = ?, error_rate = ?, outgoing_error_rate = ?, outgoing_error_lower = ?, "
                + "outgoing_error_upper = ?, projected_pass_share = ?, cusum_base_seq = ?, outcome_limit = ?, "
                + "updated_at = now()" + BY_KEY)) {
            int i = 1;
            ps.setString(i++, s.state().name());
            ps.setLong(i++, s.reviewed());
            ps.setLong(i++, s.rejected());
            ps.setLong(i++, s.consecutiveAccepted());
            ps.setLong(i++, s.stateReviewed());
            ps.setLong(i++, s.stateRejected());
            ps.setString(i++, s.recentOutcomes());
            ps.setDouble(i++, s.samplingRate());
            ps.setDouble(i++, clampUnit(s.confidenceThreshold()));
            ps.setDouble(i++, s.errorRateUpperBound());
            Rows.setInstant(ps, i++, s.stateSince());
            ps.setLong(i++, s.version());
            ps.setLong(i++, s.policyVersion());
            ps.setLong(i++, s.windowSinceSeq());
            Rows.setInstant(ps, i++, s.windowSince());
            ps.setDouble(i++, s.rawThreshold());
            ps.setBoolean(i++, s.thresholdCertified());
            ps.setDouble(i++, s.thresholdPassShare());
            ps.setString(i++, s.certification());
            ps.setDouble(i++, s.blockingRate());
            ps.setString(i++, s.calibration() == null ? null : toJson(s.calibration()));
            ps.setLong(i++, s.fittedReviews());
            ps.setLong(i++, s.sampleConsecutiveAccepted());
            ps.setLong(i++, s.samplesSinceRejection());
            ps.setDouble(i++, s.outcomeCusum());
            ps.setDouble(i++, s.confidenceCusum());
            if (s.confidenceReference() == null) {
                ps.setNull(i++, Types.DOUBLE);
            } else {
                ps.setDouble(i++, s.confidenceReference());
            }
            ps.setLong(i++, s.driftAlarms());
            if (s.previousWindowSinceSeq() == null) {
                ps.setNull(i++, Types.BIGINT);
            } else {
                ps.setLong(i++, s.previousWindowSinceSeq());
            }
            ps.setDouble(i++, s.confirmationLlr());
            ps.setLong(i++, s.windowDecided());
            ps.setDouble(i++, s.errorRate());
            ps.setDouble(i++, s.outgoingErrorRate());
            ps.setDouble(i++, s.outgoingErrorLower());
            ps.setDouble(i++, s.outgoingErrorUpper());
            ps.setDouble(i++, s.projectedPassShare());
            ps.setLong(i++, s.cusumBaseSeq());
            ps.setDouble(i++, s.outcomeLimit());
            setKey(ps, i, s.key());
            if (ps.executeUpdate() != 1) {
                throw new SQLException("stream " + s.key() + " vanished during an update");
            }
        }
    }

    /** One stream's share of a decision batch: decisions, reviews and the batch's confidence-CUSUM terms. */
    public record BatchCount(StreamKey key, int decided, int reviews, double cusumTotal, double cusumSuffix) {
    }

    /**
     * Counts a batch of inserted decisions on each of its streams and commits, in one round trip: the streams are
     * locked in key order (one statement: LockRows sits above the sort, so rows are locked in this order, the same
     * in every writer and replica), counted in one statement that applies the
     * confidence-CUSUM increments exactly (S = max(S + total, suffix)), and the transaction committed, the three sent
     * together. So the stream rows are held for the time PostgreSQL takes to update and commit, never while the
     * writer waits for a CPU or the network. Returns each stream's policy version and statistic after the update.
     */
    public Map<StreamKey, Counted> countDecisionsAndCommit(Connection c, List<BatchCount> counts)
            throws SQLException {
        List<StreamKey> keys = counts.stream().map(BatchCount::key).toList();
        try (PreparedStatement ps = c.prepareStatement(LOCK_STREAMS + "; " + COUNT_DECISIONS + "; COMMIT")) {
            setKeys(c, ps, 1, keys);
            setKeys(c, ps, 4, keys);
            ps.setArray(7, c.createArrayOf("int4", counts.stream().map(BatchCount::decided).toArray()));
            ps.setArray(8, c.createArrayOf("int4", counts.stream().map(BatchCount::reviews).toArray()));
            ps.setArray(9, c.createArrayOf("float8", counts.stream().map(BatchCount::cusumTotal).toArray()));
            ps.setArray(10, c.createArrayOf("float8", counts.stream().map(BatchCount::cusumSuffix).toArray()));
            ps.execute();
            try (ResultSet rs = ps.getResultSet()) {
                if (!rs.next() || rs.getInt(1) != keys.size()) {
                    throw new SQLException("a stream of the decision batch " + keys + " is missing");
                }
            }
            if (!ps.getMoreResults()) {
                throw new SQLException("the decision counter update returned no rows");
            }
            Map<StreamKey, Counted> counted = new HashMap<>();
            try (ResultSet rs = ps.getResultSet()) {
                while (rs.next()) {
                    counted.put(new StreamKey(rs.getString(1), rs.getString(2), rs.getString(3)),
                            new Counted(rs.getLong(4), rs.getDouble(5)));
                }
            }
            if (counted.size() != counts.size()) {
                throw new SQLException("a stream of the decision batch is missing");
            }
            return counted;
        }
    }

    private static final String LOCK_STREAMS = "SELECT count(*) FROM (SELECT 1 FROM streams "
            + "WHERE (worker_backend, worker_type, tenant) IN (SELECT * FROM unnest(?::text[], ?::text[], "
            + "?::text[])) ORDER BY worker_backend COLLATE \"C\", worker_type COLLATE \"C\", tenant COLLATE \"C\" "
            + "FOR NO KEY UPDATE) locked";

    private static final String COUNT_DECISIONS = "UPDATE streams s SET decided = s.decided + v.n, "
            + "review_requested = s.review_requested + v.r, "
            + "confidence_cusum = CASE WHEN s.confidence_reference IS NULL OR s.state NOT IN ('NORMAL', 'REDUCED') "
            + "THEN s.confidence_cusum ELSE GREATEST(s.confidence_cusum + v.ct, v.cs, 0) END, updated_at = now() "
            + "FROM unnest(?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::float8[], ?::float8[]) "
            + "AS v(b, t, tn, n, r, ct, cs) "
            + "WHERE s.worker_backend = v.b AND s.worker_type = v.t AND s.tenant = v.tn "
            + "RETURNING s.worker_backend, s.worker_type, s.tenant, s.policy_version, s.confidence_cusum";

    /**
     * Writes the columns a refit owns, unless the stream changed state or evidence window since the refit read it
     * (then the refit is stale and dropped); the confidence reference is only set when unset. True when written.
     */
    public boolean updateFit(Connection c, StreamRecord s, TrustState readState, long readWindowSinceSeq)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE streams SET calibration = ?::jsonb, raw_threshold = ?, "
                + "threshold_certified = ?, threshold_pass_share = ?, certification = ?, blocking_rate = ?, "
                + "sampling_rate = ?, confidence_threshold = ?, "
                + "confidence_reference = coalesce(confidence_reference, ?), error_rate_upper_bound = ?, "
                + "window_decided = ?, fitted_reviews = ?, error_rate = ?, outgoing_error_rate = ?, "
                + "outgoing_error_lower = ?, outgoing_error_upper = ?, projected_pass_share = ?, outcome_limit = ?, "
                + "policy_version = policy_version + CASE WHEN ? THEN 1 ELSE 0 END, updated_at = now()" + BY_KEY
                + " AND state = ? AND window_since_seq = ?")) {
            int i = 1;
            ps.setString(i++, s.calibration() == null ? null : toJson(s.calibration()));
            ps.setDouble(i++, s.rawThreshold());
            ps.setBoolean(i++, s.thresholdCertified());
            ps.setDouble(i++, s.thresholdPassShare());
            ps.setString(i++, s.certification());
            ps.setDouble(i++, s.blockingRate());
            ps.setDouble(i++, s.samplingRate()); // the refit sets NORMAL/REDUCED's rate (build-up, then f)
            ps.setDouble(i++, clampUnit(s.confidenceThreshold()));
            if (s.confidenceReference() == null) {
                ps.setNull(i++, Types.DOUBLE);
            } else {
                ps.setDouble(i++, s.confidenceReference());
            }
            ps.setDouble(i++, s.errorRateUpperBound());
            ps.setLong(i++, s.windowDecided());
            ps.setLong(i++, s.fittedReviews());
            ps.setDouble(i++, s.errorRate());
            ps.setDouble(i++, s.outgoingErrorRate());
            ps.setDouble(i++, s.outgoingErrorLower());
            ps.setDouble(i++, s.outgoingErrorUpper());
            ps.setDouble(i++, s.projectedPassShare());
            ps.setDouble(i++, s.outcomeLimit());
            ps.setBoolean(i++, true);
            setKey(ps, i, s.key());
            i += 3;
            ps.setString(i++, readState.name());
            ps.setLong(i, readWindowSinceSeq);
            return ps.executeUpdate() == 1;
        }
    }

    /** A stream's policy version and confidence-CUSUM statistic right after a batch was counted. */
    public record Counted(long policyVersion, double confidenceCusum) {
    }

    static void setKey(PreparedStatement ps, int first, StreamKey key) throws SQLException {
        ps.setString(first, key.workerBackend());
        ps.setString(first + 1, key.workerType());
        ps.setString(first + 2, key.tenant());
    }

    static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    private static double clampUnit(double x) {
        return Math.min(1, Math.max(0, x));
    }

    private Optional<StreamRecord> findOne(Connection c, String sql, StreamKey key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            setKey(ps, 1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        }
    }

    private static Long previousWindow(ResultSet rs) throws SQLException {
        long v = rs.getLong("previous_window_since_seq");
        return rs.wasNull() ? null : v;
    }

    private static StreamRecord map(ResultSet rs) throws SQLException {
        String calibration = rs.getString("calibration");
        CalibrationMap map;
        try {
            map = calibration == null ? null : JSON.readValue(calibration, CalibrationMap.class);
        } catch (JsonProcessingException e) {
            throw new SQLException("unreadable calibration of a stream: " + e.getMessage(), e);
        }
        double reference = rs.getDouble("confidence_reference");
        Double confidenceReference = rs.wasNull() ? null : reference;
        return new StreamRecord(
                new StreamKey(rs.getString("worker_backend"), rs.getString("worker_type"), rs.getString("tenant")),
                TrustState.valueOf(rs.getString("state")),
                rs.getLong("decided"),
                rs.getLong("review_requested"),
                rs.getLong("reviewed"),
                rs.getLong("rejected"),
                rs.getLong("consecutive_accepted"),
                rs.getLong("state_reviewed"),
                rs.getLong("state_rejected"),
                rs.getString("recent_outcomes"),
                rs.getDouble("sampling_rate"),
                rs.getDouble("confidence_threshold"),
                rs.getDouble("error_rate_upper_bound"),
                Rows.instant(rs, "state_since"),
                rs.getLong("version"),
                rs.getLong("policy_version"),
                rs.getLong("window_since_seq"),
                Rows.instant(rs, "window_since"),
                rs.getDouble("raw_threshold"),
                rs.getBoolean("threshold_certified"),
                rs.getDouble("threshold_pass_share"),
                rs.getString("certification"),
                rs.getDouble("blocking_rate"),
                map,
                rs.getLong("fitted_reviews"),
                rs.getLong("sample_consecutive_accepted"),
                rs.getLong("samples_since_rejection"),
                rs.getDouble("outcome_cusum"),
                rs.getDouble("confidence_cusum"),
                confidenceReference,
                rs.getLong("drift_alarms"),
                previousWindow(rs),
                rs.getDouble("confirmation_llr"),
                rs.getLong("window_decided"),
                rs.getDouble("error_rate"),
                rs.getDouble("outgoing_error_rate"),
                rs.getDouble("outgoing_error_lower"),
                rs.getDouble("outgoing_error_upper"),
                rs.getDouble("projected_pass_share"),
                rs.getLong("cusum_base_seq"),
                rs.getDouble("outcome_limit"));
    }
}
