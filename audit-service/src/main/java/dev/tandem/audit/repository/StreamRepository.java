package dev.tandem.audit.repository;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;

/** The {@code streams} table: trust records. */
@ApplicationScoped
public class StreamRepository {

    private static final String COLUMNS = "worker_backend, worker_type, tenant, state, decided, review_requested, "
            + "reviewed, rejected, consecutive_accepted, state_reviewed, state_rejected, recent_outcomes, "
            + "sampling_rate, confidence_threshold, error_rate_upper_bound, state_since, version";
    private static final String BY_KEY = " WHERE worker_backend = ? AND worker_type = ? AND tenant = ?";

    public Optional<StreamRecord> find(Connection c, StreamKey key) throws SQLException {
        return findOne(c, "SELECT " + COLUMNS + " FROM streams" + BY_KEY, key);
    }

    /** Reads and row-locks the stream until the transaction ends, so concurrent verdicts apply one at a time. */
    public Optional<StreamRecord> findForUpdate(Connection c, StreamKey key) throws SQLException {
        return findOne(c, "SELECT " + COLUMNS + " FROM streams" + BY_KEY + " FOR UPDATE", key);
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

    /** Inserts a new stream unless another request (or replica) created it first; true when this call did. */
    public boolean insertIfAbsent(Connection c, StreamRecord s) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO streams (worker_backend, worker_type, tenant, "
                + "state, sampling_rate, confidence_threshold, error_rate_upper_bound, state_since) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            setKey(ps, 1, s.key());
            ps.setString(4, s.state().name());
            ps.setDouble(5, s.samplingRate());
            ps.setDouble(6, s.confidenceThreshold());
            ps.setDouble(7, s.errorRateUpperBound());
            Rows.setInstant(ps, 8, s.stateSince());
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Writes the trust fields after a verdict. The decision counters are left alone: Decide increments them
     * atomically in SQL and must not be overwritten by a stale copy.
     */
    public void updateTrust(Connection c, StreamRecord s) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE streams SET state = ?, reviewed = ?, rejected = ?, "
                + "consecutive_accepted = ?, state_reviewed = ?, state_rejected = ?, recent_outcomes = ?, "
                + "sampling_rate = ?, confidence_threshold = ?, error_rate_upper_bound = ?, state_since = ?, "
                + "version = ?, updated_at = now()" + BY_KEY)) {
            ps.setString(1, s.state().name());
            ps.setLong(2, s.reviewed());
            ps.setLong(3, s.rejected());
            ps.setLong(4, s.consecutiveAccepted());
            ps.setLong(5, s.stateReviewed());
            ps.setLong(6, s.stateRejected());
            ps.setString(7, s.recentOutcomes());
            ps.setDouble(8, s.samplingRate());
            ps.setDouble(9, s.confidenceThreshold());
            ps.setDouble(10, s.errorRateUpperBound());
            Rows.setInstant(ps, 11, s.stateSince());
            ps.setLong(12, s.version());
            setKey(ps, 13, s.key());
            if (ps.executeUpdate() != 1) {
                throw new SQLException("stream " + s.key() + " vanished during a verdict");
            }
        }
    }

    static void setKey(PreparedStatement ps, int first, StreamKey key) throws SQLException {
        ps.setString(first, key.workerBackend());
        ps.setString(first + 1, key.workerType());
        ps.setString(first + 2, key.tenant());
    }

    private Optional<StreamRecord> findOne(Connection c, String sql, StreamKey key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            setKey(ps, 1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        }
    }

    private static StreamRecord map(ResultSet rs) throws SQLException {
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
                rs.getLong("version"));
    }
}
