package dev.tandem.audit.service;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.repository.DecisionRepository;
import dev.tandem.audit.repository.Ledger;

/**
 * Exports reviewed traces as JSON Lines, one object per line, read through a database cursor and written as they
 * are read (constant memory): accepted ones are distillation data, rejected ones eval cases whose
 * {@code reviewer_output} is the reference answer. Fields: decision_id, task_id, step_id, worker_backend,
 * worker_type, tenant, instructions, inputs, output, confidence, raw_confidence, verdict, reviewer, reason,
 * reviewer_output, decided_at, reviewed_at (inputs and output are empty when the caller sent no payload).
 */
@ApplicationScoped
public class TraceExporter {

    private static final Logger LOG = Logger.getLogger(TraceExporter.class);
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final Ledger ledger;
    private final DecisionRepository decisions;

    public TraceExporter(Ledger ledger, DecisionRepository decisions) {
        this.ledger = ledger;
        this.decisions = decisions;
    }

    /** Writes every matching trace to {@code out}; returns how many. */
    public long export(Verdict verdict, String workerBackend, String workerType, String tenant, Instant since,
            Instant until, OutputStream out) {
        long[] written = new long[1];
        ledger.inTransaction(c -> {
            try (PreparedStatement ps = decisions.exportQuery(c, verdict, workerBackend, workerType, tenant, since,
                    until); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    DecisionEntry e = DecisionRepositoryAccess.map(rs);
                    out.write(JSON.writeValueAsBytes(line(e)));
                    out.write('\n');
                    if (++written[0] % 200 == 0) {
                        out.flush();
                    }
                }
                out.flush();
            } catch (IOException io) {
                throw new UncheckedIOException(io);
            }
            return null;
        });
        LOG.infof("exported %d %s traces (backend=%s, type=%s, tenant=%s, since=%s, until=%s)", written[0],
                verdict.name().toLowerCase(Locale.ROOT), orAll(workerBackend), orAll(workerType),
                orAll(tenant), since == null ? "-" : since, until == null ? "-" : until);
        return written[0];
    }

    static Map<String, Object> line(DecisionEntry e) {
        var r = e.request();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("decision_id", r.decisionId());
        m.put("task_id", r.taskId());
        m.put("step_id", r.stepId());
        m.put("worker_backend", r.stream().workerBackend());
        m.put("worker_type", r.stream().workerType());
        m.put("tenant", e.tenant());
        m.put("instructions", r.instructions());
        m.put("inputs", r.inputs());
        m.put("output", r.candidateOutput());
        m.put("confidence", r.confidence());
        m.put("raw_confidence", r.rawConfidence());
        m.put("verdict", e.verdict().name());
        m.put("reviewer", e.reviewer());
        m.put("reason", e.verdictReason());
        m.put("reviewer_output", e.reviewerOutput());
        m.put("decided_at", e.decidedAt());
        m.put("reviewed_at", e.verdictRecordedAt());
        return m;
    }

    private static String orAll(String s) {
        return s == null || s.isEmpty() ? "*" : s;
    }

    /** Row mapping shared with the repository (package-private there). */
    static final class DecisionRepositoryAccess {
        static DecisionEntry map(ResultSet rs) throws SQLException {
            return DecisionRepository.mapRow(rs);
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
