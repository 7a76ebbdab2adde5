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

    /** Empties every ledger table, so each test starts from new streams. */
    public static void clean() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE review_tasks, decision_payloads, verdicts, decisions, state_changes, streams");
        }
    }
}
