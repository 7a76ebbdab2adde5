package dev.tandem.audit.repository;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.ReviewTask;

/**
 * The {@code review_tasks} table: the durable queue of reviews waiting for a verdict. Claims take rows with
 * {@code FOR UPDATE SKIP LOCKED} (replicas and reviewers never block each other nor take the same task) and set a
 * lease; a task whose lease expired is claimable again, so a crashed claimant's work returns to the queue. The
 * verdict deletes the task in its own transaction, so a task is never lost and never reviewed twice to a conflict.
 */
@ApplicationScoped
public class ReviewTaskRepository {

    private static final String SELECT = "SELECT t.queue, t.enqueued_at, t.attempts, t.last_error, t.claimed_by, "
            + "t.claim_token, t.lease_until, e.* FROM review_tasks t JOIN (" + DecisionRepository.SELECT
            + ") e ON e.decision_id = t.decision_id";

    public void enqueue(Connection c, List<String> decisionIds, List<ReviewQueue> queues, List<String> notes)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO review_tasks (decision_id, queue, last_error) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (int i = 0; i < decisionIds.size(); i++) {
                ps.setString(1, decisionIds.get(i));
                ps.setString(2, queues.get(i).name());
                ps.setString(3, notes.get(i));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * Leases up to {@code max} claimable tasks of the queue, oldest first (or the one task of {@code decisionId});
     * every claim gets a fresh token.
     */
    public List<ReviewTask> claim(Connection c, ReviewQueue queue, String claimant, int max, Duration lease,
            String decisionId) throws SQLException {
        String pick = decisionId == null || decisionId.isEmpty()
                ? "SELECT decision_id FROM review_tasks WHERE queue = ? AND available_at <= now() "
                        + "AND (lease_until IS NULL OR lease_until < now()) ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED"
                : "SELECT decision_id FROM review_tasks WHERE queue = ? AND decision_id = ? "
                        + "AND (lease_until IS NULL OR lease_until < now()) FOR UPDATE SKIP LOCKED";
        List<String> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("UPDATE review_tasks SET claimed_by = ?, "
                + "claim_token = gen_random_uuid()::text, lease_until = now() + make_interval(secs => ?), "
                + "attempts = attempts + 1 WHERE decision_id IN (" + pick + ") RETURNING decision_id")) {
            ps.setString(1, claimant);
            ps.setDouble(2, lease.toMillis() / 1000.0);
            ps.setString(3, queue.name());
            if (decisionId == null || decisionId.isEmpty()) {
                ps.setInt(4, max);
            } else {
                ps.setString(4, decisionId);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
        }
        if (ids.isEmpty()) {
            return List.of();
        }
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE t.decision_id = ANY (?) ORDER BY t.seq")) {
            ps.setArray(1, c.createArrayOf("text", ids.toArray()));
            return read(ps);
        }
    }

    /** Pending (and, when asked, claimed) tasks, oldest first; null filters match everything. */
    public List<ReviewTask> list(Connection c, ReviewQueue queue, String workerBackend, String workerType,
            String tenant, boolean includeClaimed, int limit) throws SQLException {
        StringBuilder sql = new StringBuilder(SELECT).append(" WHERE TRUE");
        List<String> args = new ArrayList<>();
        if (queue != null) {
            sql.append(" AND t.queue = ?");
            args.add(queue.name());
        }
        if (workerBackend != null && !workerBackend.isEmpty()) {
            sql.append(" AND e.worker_backend = ?");
            args.add(workerBackend);
        }
        if (workerType != null && !workerType.isEmpty()) {
            sql.append(" AND e.worker_type = ?");
            args.add(workerType);
        }
        if (tenant != null && !tenant.isEmpty()) {
            sql.append(" AND e.request_tenant = ?");
            args.add(tenant);
        }
        if (!includeClaimed) {
            sql.append(" AND (t.lease_until IS NULL OR t.lease_until < now())");
        }
        sql.append(" ORDER BY t.seq LIMIT ?");
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 1;
            for (String arg : args) {
                ps.setString(i++, arg);
            }
            ps.setInt(i, limit);
            return read(ps);
        }
    }

    public Optional<ReviewTask> find(Connection c, String decisionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE t.decision_id = ?")) {
            ps.setString(1, decisionId);
            List<ReviewTask> tasks = read(ps);
            return tasks.isEmpty() ? Optional.empty() : Optional.of(tasks.get(0));
        }
    }

    /** Row-locks the task (or nothing when it is gone), so a submit and a claim cannot interleave. */
    public Optional<String[]> lockLease(Connection c, String decisionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT claim_token, claimed_by, "
                + "(lease_until IS NOT NULL AND lease_until >= now()) FROM review_tasks WHERE decision_id = ? FOR UPDATE")) {
            ps.setString(1, decisionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new String[] { rs.getString(1), rs.getString(2),
                        Boolean.toString(rs.getBoolean(3)) }) : Optional.empty();
            }
        }
    }

    /** The task is done: its verdict is stored (same transaction). */
    public void delete(Connection c, String decisionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM review_tasks WHERE decision_id = ?")) {
            ps.setString(1, decisionId);
            ps.executeUpdate();
        }
    }

    /** The tasks are done: their verdicts are stored (same transaction). */
    public void deleteAll(Connection c, List<String> decisionIds) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM review_tasks WHERE decision_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", decisionIds.toArray()));
            ps.executeUpdate();
        }
    }

    /** Moves the lease of a task still held under {@code claimToken} to {@code until}. */
    public void holdUntil(Connection c, String decisionId, String claimToken, Instant until) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE review_tasks SET lease_until = ? "
                + "WHERE decision_id = ? AND claim_token = ?")) {
            ps.setTimestamp(1, Timestamp.from(until));
            ps.setString(2, decisionId);
            ps.setString(3, claimToken);
            ps.executeUpdate();
        }
    }

    /** A failed attempt: back to the queue after {@code backoff}, or to the human queue when {@code toHumans}. */
    public void release(Connection c, String decisionId, String claimToken, String error, Duration backoff,
            boolean toHumans) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE review_tasks SET claimed_by = NULL, claim_token = NULL, "
                + "lease_until = NULL, last_error = ?, available_at = now() + make_interval(secs => ?), "
                + "queue = CASE WHEN ? THEN 'HUMAN' ELSE queue END WHERE decision_id = ? AND claim_token = ?")) {
            ps.setString(1, error.length() > 1000 ? error.substring(0, 1000) : error);
            ps.setDouble(2, toHumans ? 0 : backoff.toMillis() / 1000.0);
            ps.setBoolean(3, toHumans);
            ps.setString(4, decisionId);
            ps.setString(5, claimToken);
            ps.executeUpdate();
        }
    }

    /** Tasks waiting per queue (claimed or not). */
    public Map<ReviewQueue, Long> pendingByQueue(Connection c) throws SQLException {
        Map<ReviewQueue, Long> counts = new EnumMap<>(ReviewQueue.class);
        for (ReviewQueue q : ReviewQueue.values()) {
            counts.put(q, 0L);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT queue, count(*) FROM review_tasks GROUP BY queue");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                counts.put(ReviewQueue.valueOf(rs.getString(1)), rs.getLong(2));
            }
        }
        return counts;
    }

    /** Tasks waiting per stream key "backend\u0000type\u0000tenant". */
    public Map<String, Long> pendingByStream(Connection c) throws SQLException {
        Map<String, Long> counts = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT d.worker_backend, d.worker_type, d.tenant, count(*) "
                + "FROM review_tasks t JOIN decisions d USING (decision_id) GROUP BY 1, 2, 3");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                counts.put(rs.getString(1) + '\u0000' + rs.getString(2) + '\u0000' + rs.getString(3), rs.getLong(4));
            }
        }
        return counts;
    }

    private static List<ReviewTask> read(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            List<ReviewTask> tasks = new ArrayList<>();
            while (rs.next()) {
                tasks.add(new ReviewTask(DecisionRepository.map(rs), ReviewQueue.valueOf(rs.getString("queue")),
                        Rows.instant(rs, "enqueued_at"), rs.getInt("attempts"), rs.getString("last_error"),
                        rs.getString("claimed_by"), rs.getString("claim_token"), Rows.instant(rs, "lease_until")));
            }
            return tasks;
        }
    }
}
