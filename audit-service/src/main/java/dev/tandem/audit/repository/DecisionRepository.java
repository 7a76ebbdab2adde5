package dev.tandem.audit.repository;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;

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
import dev.tandem.audit.WindowEntry;

/** The {@code decisions}, {@code decision_payloads} and {@code verdicts} tables: the ledger proper. */
@ApplicationScoped
public class DecisionRepository {

    private static final String INSERT_COLUMNS = "decision_id, task_id, step_id, worker_backend, worker_type, tenant, "
            + "request_tenant, confidence, raw_confidence, validation_passed, action, reason, mode, "
            + "sampling_probability, confidence_threshold, state, explanation, raw_threshold, threshold_certified, "
            + "blocking_probability, certification_sample";
    private static final String[] INSERT_TYPES = { "text", "text", "text", "text", "text", "text", "text", "float8",
        "float8", "bool", "text", "text", "text", "float8", "float8", "text", "text", "float8", "bool", "float8",
        "bool" };
    /**
     * A batch of any size is one statement with one array per column: the same SQL text every time, so it is
     * parsed and planned once per connection (a VALUES list with 22 parameters per row was a new statement for
     * every batch size). unnest keeps the array order, so seq follows the order of the batch. The arrays are bound
     * as String[], double[] and boolean[], which pgjdbc sends in PostgreSQL's binary array format: with
     * {@code createArrayOf} each was an escaped text literal that the driver built and PostgreSQL parsed element by
     * element (float8in for every number), a tenth of the service's and a share of PostgreSQL's CPU per decision
     * at 5,000/s (issue 16). calibrated_confidence is left out: it is no longer written (null, its default).
     */
    private static final String INSERT_SQL;

    static {
        StringBuilder unnest = new StringBuilder();
        for (int i = 0; i < INSERT_TYPES.length; i++) {
            unnest.append(i == 0 ? "" : ", ").append("?::").append(INSERT_TYPES[i]).append("[]");
        }
        INSERT_SQL = "INSERT INTO decisions (" + INSERT_COLUMNS + ") SELECT * FROM unnest(" + unnest
                + ") ON CONFLICT (decision_id) DO NOTHING RETURNING decision_id";
    }

    static final String SELECT = "SELECT d.seq, d.decision_id, d.task_id, d.step_id, d.worker_backend, "
            + "d.worker_type, d.tenant, d.request_tenant, d.confidence, d.raw_confidence, d.validation_passed, "
            + "d.action, d.reason, d.mode, d.sampling_probability, d.confidence_threshold, d.state, d.explanation, "
            + "d.calibrated_confidence, d.raw_threshold, d.threshold_certified, d.blocking_probability, "
            + "d.certification_sample, d.decided_at, v.verdict, v.reviewer, v.reason AS verdict_reason, "
            + "v.reviewer_output, v.recorded_at, p.inputs, p.candidate_output, p.instructions, p.batch, "
            + "p.batch_deadline "
            + "FROM decisions d LEFT JOIN verdicts v ON v.decision_id = d.decision_id "
            + "LEFT JOIN decision_payloads p ON p.decision_id = d.decision_id";

    /** A decision to store: the request (stream key already resolved), the decision, the sender's tenant. */
    public record NewDecision(DecisionRequest request, Decision decision, String requestTenant) {
    }

    /**
     * Stores decisions in one multi-row statement; returns the ids actually inserted (the others were stored
     * before: replays). Payloads of reviewed outputs go with them.
     */
    public Set<String> insertAll(Connection c, List<NewDecision> batch) throws SQLException {
        int size = batch.size();
        String[] decisionIds = new String[size];
        String[] taskIds = new String[size];
        String[] stepIds = new String[size];
        String[] backends = new String[size];
        String[] types = new String[size];
        String[] tenants = new String[size];
        String[] requestTenants = new String[size];
        double[] confidences = new double[size];
        double[] rawConfidences = new double[size];
        boolean[] validationPassed = new boolean[size];
        String[] actions = new String[size];
        String[] reasons = new String[size];
        String[] modes = new String[size];
        double[] samplingProbabilities = new double[size];
        double[] confidenceThresholds = new double[size];
        String[] states = new String[size];
        String[] explanations = new String[size];
        double[] rawThresholds = new double[size];
        boolean[] thresholdsCertified = new boolean[size];
        double[] blockingProbabilities = new double[size];
        boolean[] certificationSamples = new boolean[size];
        for (int row = 0; row < size; row++) {
            NewDecision d = batch.get(row);
            DecisionRequest r = d.request();
            Decision x = d.decision();
            decisionIds[row] = r.decisionId();
            taskIds[row] = r.taskId();
            stepIds[row] = r.stepId();
            backends[row] = r.stream().workerBackend();
            types[row] = r.stream().workerType();
            tenants[row] = r.stream().tenant();
            requestTenants[row] = d.requestTenant();
            confidences[row] = r.confidence();
            rawConfidences[row] = r.rawConfidence();
            validationPassed[row] = r.validationPassed();
            actions[row] = x.action().name();
            reasons[row] = x.reason().name();
            modes[row] = x.mode().name();
            samplingProbabilities[row] = x.samplingProbability();
            confidenceThresholds[row] = Math.min(1, Math.max(0, x.confidenceThreshold()));
            states[row] = x.state().name();
            explanations[row] = x.explanation();
            rawThresholds[row] = x.rawThreshold();
            thresholdsCertified[row] = x.thresholdCertified();
            blockingProbabilities[row] = x.blockingProbability();
            certificationSamples[row] = x.certificationSample();
        }
        Object[] columns = { decisionIds, taskIds, stepIds, backends, types, tenants, requestTenants, confidences,
            rawConfidences, validationPassed, actions, reasons, modes, samplingProbabilities, confidenceThresholds,
            states, explanations, rawThresholds, thresholdsCertified, blockingProbabilities, certificationSamples };
        Set<String> inserted = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(INSERT_SQL)) {
            for (int col = 0; col < columns.length; col++) {
                ps.setObject(col + 1, columns[col]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    inserted.add(rs.getString(1));
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO decision_payloads (decision_id, inputs, "
                + "candidate_output, instructions, batch, batch_deadline) VALUES (?, ?::jsonb, ?, ?, ?, ?)")) {
            int rows = 0;
            for (NewDecision n : batch) {
                DecisionRequest r = n.request();
                if (inserted.contains(r.decisionId()) && n.decision().action() == AuditAction.REVIEW
                        && (r.hasPayload() || !r.inputs().isEmpty())) {
                    ps.setString(1, r.decisionId());
                    ps.setString(2, StreamRepository.toJson(r.inputs()));
                    ps.setString(3, r.candidateOutput());
                    ps.setString(4, r.instructions());
                    ps.setBoolean(5, r.batch());
                    ps.setTimestamp(6, r.batchDeadline() == null ? null : Timestamp.from(r.batchDeadline()));
                    ps.addBatch();
                    rows++;
                }
            }
            if (rows > 0) {
                ps.executeBatch();
            }
        }
        return inserted;
    }

    public Optional<DecisionEntry> find(Connection c, String decisionId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE d.decision_id = ?")) {
            ps.setString(1, decisionId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        }
    }

    /** The stored decisions among these ids, by id. */
    public Map<String, DecisionEntry> findAll(Connection c, List<String> decisionIds) throws SQLException {
        Map<String, DecisionEntry> found = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE d.decision_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", decisionIds.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    DecisionEntry e = map(rs);
                    found.put(e.request().decisionId(), e);
                }
            }
        }
        return found;
    }

    /** Newest first. */
    public List<DecisionEntry> list(Connection c, DecisionFilter filter) throws SQLException {
        StringBuilder sql = new StringBuilder(SELECT).append(" WHERE TRUE");
        List<Object> args = new ArrayList<>();
        addFilter(sql, args, "d.task_id", filter.taskId());
        addFilter(sql, args, "d.worker_backend", filter.workerBackend());
        addFilter(sql, args, "d.worker_type", filter.workerType());
        addFilter(sql, args, "d.request_tenant", filter.tenant());
        if (filter.decidedAfter() != null) {
            sql.append(" AND d.decided_at >= ?");
            args.add(Timestamp.from(filter.decidedAfter()));
        }
        if (filter.decidedBefore() != null) {
            sql.append(" AND d.decided_at < ?");
            args.add(Timestamp.from(filter.decidedBefore()));
        }
        sql.append(" ORDER BY d.seq DESC LIMIT ?");
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 1;
            for (Object arg : args) {
                ps.setObject(i++, arg);
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

    /** The stream's evidence window: decisions with seq ≥ since, the most recent {@code max}, oldest first. */
    public List<WindowEntry> window(Connection c, StreamKey key, long since, int max) throws SQLException {
        return read(c, key, since, max, "");
    }

    private List<WindowEntry> read(Connection c, StreamKey key, long since, int max, String condition)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT d.decision_id, d.seq, d.raw_confidence, "
                + "d.validation_passed, d.action, d.mode, d.reason, d.sampling_probability, d.blocking_probability, "
                + "d.certification_sample, v.verdict FROM decisions d LEFT JOIN verdicts v USING (decision_id) "
                + "WHERE d.worker_backend = ? AND d.worker_type = ? AND d.tenant = ? AND d.seq >= ?" + condition
                + " ORDER BY d.seq DESC LIMIT ?")) {
            StreamRepository.setKey(ps, 1, key);
            ps.setLong(4, since);
            ps.setInt(5, max);
            ps.setFetchSize(5000);
            try (ResultSet rs = ps.executeQuery()) {
                // grown as rows come: presizing to max allocated up to 65,536 slots for a stream with a few decisions
                List<WindowEntry> window = new ArrayList<>();
                while (rs.next()) {
                    window.add(new WindowEntry(rs.getString(1), rs.getLong(2), rs.getDouble(3), rs.getBoolean(4),
                            AuditAction.valueOf(rs.getString(5)), ReviewMode.valueOf(rs.getString(6)),
                            AuditReason.valueOf(rs.getString(7)), rs.getDouble(8), rs.getDouble(9), rs.getBoolean(10),
                            Rows.enumOrNull(Verdict.class, rs.getString(11))));
                }
                Collections.reverse(window);
                return window;
            }
        }
    }

    /** The certification-sample decisions of the stream with seq ≥ since, the most recent {@code max}, oldest first. */
    public List<WindowEntry> certificationSample(Connection c, StreamKey key, long since, int max) throws SQLException {
        return read(c, key, since, max, " AND d.certification_sample");
    }

    /** The next decision sequence number (a new evidence window starts there). */
    public long nextSeq(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(seq), 0) + 1 FROM decisions");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Stores a verdict unless the decision already has one; true when this call stored it. */
    public boolean insertVerdictIfAbsent(Connection c, VerdictRequest v) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO verdicts (decision_id, verdict, reviewer, reason, "
                + "reviewer_output) VALUES (?, ?, ?, ?, ?) ON CONFLICT (decision_id) DO NOTHING")) {
            ps.setString(1, v.decisionId());
            ps.setString(2, v.verdict().name());
            ps.setString(3, v.reviewer() == null ? "" : v.reviewer());
            ps.setString(4, v.reason() == null ? "" : v.reason());
            ps.setString(5, v.reviewerOutput() == null ? "" : v.reviewerOutput());
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Stores these verdicts (one per decision) in one statement, except where the decision already has one; returns
     * the decision ids whose verdict this call stored.
     */
    public Set<String> insertVerdicts(Connection c, List<VerdictRequest> verdicts) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO verdicts (decision_id, verdict, reviewer, reason, "
                + "reviewer_output) SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) "
                + "ON CONFLICT (decision_id) DO NOTHING RETURNING decision_id")) {
            ps.setArray(1, c.createArrayOf("text", verdicts.stream().map(VerdictRequest::decisionId).toArray()));
            ps.setArray(2, c.createArrayOf("text", verdicts.stream().map(v -> v.verdict().name()).toArray()));
            ps.setArray(3, c.createArrayOf("text", verdicts.stream()
                    .map(v -> v.reviewer() == null ? "" : v.reviewer()).toArray()));
            ps.setArray(4, c.createArrayOf("text", verdicts.stream()
                    .map(v -> v.reason() == null ? "" : v.reason()).toArray()));
            ps.setArray(5, c.createArrayOf("text", verdicts.stream()
                    .map(v -> v.reviewerOutput() == null ? "" : v.reviewerOutput()).toArray()));
            Set<String> inserted = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    inserted.add(rs.getString(1));
                }
            }
            return inserted;
        }
    }

    /** The stored verdicts of these decisions, by decision id (a decision without one is absent). */
    public Map<String, Verdict> findVerdicts(Connection c, List<String> decisionIds) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT decision_id, verdict FROM verdicts WHERE decision_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", decisionIds.toArray()));
            Map<String, Verdict> found = new HashMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.put(rs.getString(1), Verdict.valueOf(rs.getString(2)));
                }
            }
            return found;
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

    /**
     * Reviewed decisions with a given verdict for export, oldest verdict first, read through a cursor (the caller
     * keeps the transaction open while it streams).
     */
    public PreparedStatement exportQuery(Connection c, Verdict verdict, String workerBackend, String workerType,
            String tenant, Instant since, Instant until) throws SQLException {
        StringBuilder sql = new StringBuilder(SELECT.replace("LEFT JOIN verdicts", "JOIN verdicts"))
                .append(" WHERE v.verdict = ?");
        List<Object> args = new ArrayList<>();
        args.add(verdict.name());
        addFilter(sql, args, "d.worker_backend", workerBackend);
        addFilter(sql, args, "d.worker_type", workerType);
        addFilter(sql, args, "d.request_tenant", tenant);
        if (since != null) {
            sql.append(" AND v.recorded_at >= ?");
            args.add(Timestamp.from(since));
        }
        if (until != null) {
            sql.append(" AND v.recorded_at < ?");
            args.add(Timestamp.from(until));
        }
        sql.append(" ORDER BY v.recorded_at, d.seq");
        PreparedStatement ps = c.prepareStatement(sql.toString());
        int i = 1;
        for (Object arg : args) {
            ps.setObject(i++, arg);
        }
        ps.setFetchSize(500);
        return ps;
    }

    private static void addFilter(StringBuilder sql, List<Object> args, String column, String value) {
        if (value != null && !value.isEmpty()) {
            sql.append(" AND ").append(column).append(" = ?");
            args.add(value);
        }
    }

    /** Maps a row of {@link #exportQuery}. */
    public static DecisionEntry mapRow(ResultSet rs) throws SQLException {
        return map(rs);
    }

    static DecisionEntry map(ResultSet rs) throws SQLException {
        Map<String, String> inputs = Map.of();
        String json = rs.getString("inputs");
        if (json != null) {
            try {
                inputs = StreamRepository.JSON.readValue(json, new TypeReference<Map<String, String>>() {
                });
            } catch (JsonProcessingException e) {
                throw new SQLException("unreadable inputs of decision " + rs.getString("decision_id"), e);
            }
        }
        String output = rs.getString("candidate_output");
        String instructions = rs.getString("instructions");
        Timestamp batchDeadline = rs.getTimestamp("batch_deadline");
        DecisionRequest request = new DecisionRequest(
                rs.getString("decision_id"),
                rs.getString("task_id"),
                rs.getString("step_id"),
                new StreamKey(rs.getString("worker_backend"), rs.getString("worker_type"), rs.getString("tenant")),
                rs.getDouble("confidence"),
                rs.getDouble("raw_confidence"),
                rs.getBoolean("validation_passed"),
                inputs, output, instructions, rs.getBoolean("batch"), batchDeadline == null ? null
                        : batchDeadline.toInstant());
        double calibrated = rs.getDouble("calibrated_confidence");
        if (rs.wasNull()) {
            calibrated = rs.getDouble("confidence");
        }
        Decision decision = new Decision(
                AuditAction.valueOf(rs.getString("action")),
                AuditReason.valueOf(rs.getString("reason")),
                ReviewMode.valueOf(rs.getString("mode")),
                rs.getDouble("sampling_probability"),
                rs.getDouble("blocking_probability"),
                rs.getBoolean("certification_sample"),
                rs.getDouble("confidence_threshold"),
                rs.getDouble("raw_threshold"),
                rs.getBoolean("threshold_certified"),
                calibrated,
                TrustState.valueOf(rs.getString("state")),
                rs.getString("explanation"));
        return new DecisionEntry(rs.getLong("seq"), rs.getString("request_tenant"), request, decision,
                Rows.instant(rs, "decided_at"),
                Rows.enumOrNull(Verdict.class, rs.getString("verdict")),
                rs.getString("reviewer"),
                rs.getString("verdict_reason"),
                rs.getString("reviewer_output"),
                Rows.instant(rs, "recorded_at"));
    }
}
