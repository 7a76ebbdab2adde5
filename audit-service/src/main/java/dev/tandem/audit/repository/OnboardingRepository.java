package dev.tandem.audit.repository;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.OnboardingEvidence;

/** The {@code onboarding_evidence} table: one row per worker backend and worker type, the latest evaluation. */
@ApplicationScoped
public class OnboardingRepository {

    /** Inserts or replaces the evidence of its backend and worker type (a re-onboarded model replaces the old). */
    public OnboardingEvidence upsert(Connection c, OnboardingEvidence e) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO onboarding_evidence (worker_backend, worker_type, "
                + "source, items, rejected, detail, recorded_at, right_confidences, wrong_confidences) "
                + "VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?) "
                + "ON CONFLICT (worker_backend, worker_type) DO UPDATE SET source = EXCLUDED.source, "
                + "items = EXCLUDED.items, rejected = EXCLUDED.rejected, detail = EXCLUDED.detail, "
                + "recorded_at = EXCLUDED.recorded_at, right_confidences = EXCLUDED.right_confidences, "
                + "wrong_confidences = EXCLUDED.wrong_confidences RETURNING recorded_at")) {
            ps.setString(1, e.workerBackend());
            ps.setString(2, e.workerType());
            ps.setString(3, e.source());
            ps.setLong(4, e.items());
            ps.setLong(5, e.rejected());
            ps.setString(6, e.detail());
            ps.setArray(7, c.createArrayOf("float8", e.rightConfidences().toArray()));
            ps.setArray(8, c.createArrayOf("float8", e.wrongConfidences().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new OnboardingEvidence(e.workerBackend(), e.workerType(), e.source(), e.items(), e.rejected(),
                        e.detail(), rs.getTimestamp(1).toInstant(), e.rightConfidences(), e.wrongConfidences());
            }
        }
    }

    public List<OnboardingEvidence> list(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT worker_backend, worker_type, source, items, rejected, "
                + "detail, recorded_at, right_confidences, wrong_confidences FROM onboarding_evidence "
                + "ORDER BY worker_backend, worker_type");
                ResultSet rs = ps.executeQuery()) {
            List<OnboardingEvidence> all = new ArrayList<>();
            while (rs.next()) {
                all.add(new OnboardingEvidence(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4),
                        rs.getLong(5), rs.getString(6), rs.getTimestamp(7).toInstant(), doubles(rs.getArray(8)),
                        doubles(rs.getArray(9))));
            }
            return all;
        }
    }

    private static List<Double> doubles(Array array) throws SQLException {
        return array == null ? List.of() : List.of((Double[]) array.getArray());
    }
}
