package dev.tandem.audit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

import org.eclipse.microprofile.config.ConfigProvider;

/** Plain JDBC to the test ledger (tandem_test), outside the application's pool. */
public final class LedgerDatabase {

    private LedgerDatabase() {
    }

    public static Connection connect() throws SQLException {
        var config = ConfigProvider.getConfig();
        return DriverManager.getConnection(config.getValue("quarkus.datasource.jdbc.url", String.class),
                config.getValue("quarkus.datasource.username", String.class),
                config.getOptionalValue("quarkus.datasource.password", String.class).orElse(""));
    }

    /** How many rows the ledger holds for a decision id, read outside the application (committed rows only). */
    public static int storedDecisions(String decisionId) throws SQLException {
        try (Connection c = connect();
                var ps = c.prepareStatement("SELECT count(*) FROM decisions WHERE decision_id = ?")) {
            ps.setString(1, decisionId);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Empties every ledger table, so each test starts from new streams. */
    public static void clean() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE review_tasks, decision_payloads, verdicts, decisions, state_changes, stream_keys, streams, onboarding_evidence");
        }
        // The replica's caches of what was just deleted.
        io.quarkus.arc.Arc.container().instance(dev.tandem.audit.service.StreamPolicies.class).get().clear();
    }

    /** Puts a stream straight into NORMAL with the given sampling rate and threshold (as a refit would). */
    public static void makeNormal(String backend, String type, double samplingRate, double rawThreshold)
            throws SQLException {
        try (Connection c = connect(); var ps = c.prepareStatement("UPDATE streams SET state = 'NORMAL', "
                + "sampling_rate = ?, raw_threshold = ?, confidence_threshold = ?, blocking_rate = 0, "
                + "policy_version = policy_version + 1 WHERE worker_backend = ? AND worker_type = ?")) {
            ps.setDouble(1, samplingRate);
            ps.setDouble(2, rawThreshold);
            ps.setDouble(3, rawThreshold);
            ps.setString(4, backend);
            ps.setString(5, type);
            ps.executeUpdate();
        }
        io.quarkus.arc.Arc.container().instance(dev.tandem.audit.service.StreamPolicies.class).get().clear();
    }
}
