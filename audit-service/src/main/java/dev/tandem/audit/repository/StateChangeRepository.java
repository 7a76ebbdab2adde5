package dev.tandem.audit.repository;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.StateChange;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.TrustState;

/** The {@code state_changes} table: the history of every stream's trust state. */
@ApplicationScoped
public class StateChangeRepository {

    public void insert(Connection c, StreamKey key, TrustState from, TrustState to, String reason, String decisionId)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO state_changes (worker_backend, worker_type, "
                + "tenant, from_state, to_state, reason, decision_id) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            StreamRepository.setKey(ps, 1, key);
            ps.setString(4, from == null ? null : from.name());
            ps.setString(5, to.name());
            ps.setString(6, reason);
            ps.setString(7, decisionId);
            ps.executeUpdate();
        }
    }

    /** Newest first; empty or null filter fields match every stream. */
    public List<StateChange> list(Connection c, String workerBackend, String workerType, String tenant, int limit)
            throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT id, worker_backend, worker_type, tenant, from_state, to_state, "
                + "reason, decision_id, changed_at FROM state_changes WHERE TRUE");
        List<String> args = new ArrayList<>();
        if (workerBackend != null && !workerBackend.isEmpty()) {
            sql.append(" AND worker_backend = ?");
            args.add(workerBackend);
        }
        if (workerType != null && !workerType.isEmpty()) {
            sql.append(" AND worker_type = ?");
            args.add(workerType);
        }
        if (tenant != null && !tenant.isEmpty()) {
            sql.append(" AND tenant = ?");
            args.add(tenant);
        }
        sql.append(" ORDER BY id DESC LIMIT ?");
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int i = 1;
            for (String arg : args) {
                ps.setString(i++, arg);
            }
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<StateChange> changes = new ArrayList<>();
                while (rs.next()) {
                    changes.add(new StateChange(rs.getLong("id"),
                            new StreamKey(rs.getString("worker_backend"), rs.getString("worker_type"),
                                    rs.getString("tenant")),
                            Rows.enumOrNull(TrustState.class, rs.getString("from_state")),
                            TrustState.valueOf(rs.getString("to_state")),
                            rs.getString("reason"),
                            rs.getString("decision_id"),
                            Rows.instant(rs, "changed_at")));
                }
                return changes;
            }
        }
    }
}
