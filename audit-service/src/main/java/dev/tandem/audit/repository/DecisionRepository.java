package dev.tandem.audit.repository;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.DecisionFilter;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.VerdictRequest;

/** The {@code decisions} and {@code verdicts} tables: the ledger proper. */
@ApplicationScoped
public class DecisionRepository {

    // One statement stores the decision (unless the id exists: a replay) and counts it on its stream, so the
    // counters can never disagree with the ledger, even across replicas.
    private static final String INSERT_AND_COUNT = """
            WITH inserted AS (
                INSERT INTO decisions (decision_id, task_id, step_id, worker_backend, worker_type, tenant, confidence,
                    raw_confidence, validation_passed, action, reason, mode, sampling_probability,
                    confidence_threshold, state, explanation)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (decision_id) DO NOTHING
                RETURNING action, worker_backend, worker_type, tenant
            )
            UPDATE streams s SET decided = s.decided + 1,
                review_requested = s.review_requested + CASE WHEN i.action = 'REVIEW' THEN 1 ELSE 0 END,
                updated_at = now()
            FROM inserted i
            WHERE s.worker_backend = i.worker_backend AND s.worker_type = i.worker_type AND s.tenant = i.tenant
            """;

    private static final String SELECT = "SELECT d.decision_id, d.task_id, d.step_id, d.worker_backend, "
            + "d.worker_type, d.tenant, d.confidence, d.raw_confidence, d.validation_passed, d.action, d.reason, "
            + "d.mode, d.sampling_probability, d.confidence_threshold, d.state, d.explanation, d.decided_at, "
            + "v.verdict, v.reviewer, v.reason AS verdict_reason, v.recorded_at "
            + "FROM decisions d LEFT JOIN verdicts v ON v.decision_id = d.decision_id";

    /** Stores a new decision and counts it on its stream; false when the decision id was already stored. */
    public boolean insertAndCount(Connection c, DecisionRequest r, Decision d) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(INSERT_AND_COUNT)) {
            ps.setString(1, r.decisionId());
            ps.setString(2, r.taskId());
            ps.setString(3, r.stepId());
            StreamRepository.setKey(ps, 4, r.stream());
            ps.setDouble(7, r.confidence());
            ps.setDouble(8, r.rawConfidence());
            ps.setBoolean(9, r.validationPassed());
            ps.setString(10, d.action().name());
            ps.setString(11, d.reason().name());
            ps.setString(12, d.mode().name());
            ps.setDouble(13, d.samplingProbability());
            ps.setDouble(14, d.confidenceThreshold());
            ps.setString(15, d.state().name());
            ps.setString(16, d.explanation());
            return ps.executeUpdate() == 1;
        }
    }

    public Optional<DecisionEntry> find(Connection c, String decisionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE d.decision_id = ?")) {
            ps.setString(1, decisionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        }
    }

    /** Newest first. */
    public List<DecisionEntry> list(Connection c, DecisionFilter filter) throws SQLException {
        StringBuilder sql = new StringBuilder(SELECT).append(" WHERE TRUE");
        List<String> args = new ArrayList<>();
        addFilter(sql, args, "d.task_id", filter.taskId());
        addFilter(sql, args, "d.worker_backend", filter.workerBackend());
        addFilter(sql, args, "d.worker_type", filter.workerType());
        sql.append(" ORDER BY d.seq DESC LIMIT ?");
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 1;
            for (String arg : args) {
                ps.setString(i++, arg);
            }
            ps.setInt(i, filter.limit());
            try (ResultSet rs = ps.executeQuery()) {
                List<DecisionEntry> entries = new ArrayList<>();
                while (rs.next()) {
                    entries.add(map(rs));
                }
                return entries;
            }
        }
    }

    /** Stores a verdict unless the decision already has one; true when this call stored it. */
    public boolean insertVerdictIfAbsent(Connection c, VerdictRequest v) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO verdicts (decision_id, verdict, reviewer, reason) "
                + "VALUES (?, ?, ?, ?) ON CONFLICT (decision_id) DO NOTHING")) {
            ps.setString(1, v.decisionId());
            ps.setString(2, v.verdict().name());
            ps.setString(3, v.reviewer() == null ? "" : v.reviewer());
            ps.setString(4, v.reason() == null ? "" : v.reason());
            return ps.executeUpdate() == 1;
        }
    }

    public Optional<Verdict> findVerdict(Connection c, String decisionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT verdict FROM verdicts WHERE decision_id = ?")) {
            ps.setString(1, decisionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(Verdict.valueOf(rs.getString(1))) : Optional.empty();
            }
        }
    }

    private static void addFilter(StringBuilder sql, List<String> args, String column, String value) {
        if (value != null && !value.isEmpty()) {
            sql.append(" AND ").append(column).append(" = ?");
            args.add(value);
        }
    }

    private static DecisionEntry map(ResultSet rs) throws SQLException {
        DecisionRequest request = new DecisionRequest(
                rs.getString("decision_id"),
                rs.getString("task_id"),
                rs.getString("step_id"),
                new StreamKey(rs.getString("worker_backend"), rs.getString("worker_type"), rs.getString("tenant")),
                rs.getDouble("confidence"),
                rs.getDouble("raw_confidence"),
                rs.getBoolean("validation_passed"));
        Decision decision = new Decision(
                AuditAction.valueOf(rs.getString("action")),
                AuditReason.valueOf(rs.getString("reason")),
                ReviewMode.valueOf(rs.getString("mode")),
                rs.getDouble("sampling_probability"),
                rs.getDouble("confidence_threshold"),
                TrustState.valueOf(rs.getString("state")),
                rs.getString("explanation"));
        return new DecisionEntry(request, decision, Rows.instant(rs, "decided_at"),
                Rows.enumOrNull(Verdict.class, rs.getString("verdict")),
                rs.getString("reviewer"),
                rs.getString("verdict_reason"),
                Rows.instant(rs, "recorded_at"));
    }
}
