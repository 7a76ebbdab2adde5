package dev.tandem.audit.repository;

import java.sql.Connection;
import java.sql.SQLException;

import jakarta.enterprise.context.ApplicationScoped;

import io.agroal.api.AgroalDataSource;

/**
 * Connections and transactions on the ledger database. Plain JDBC instead of an ORM: the hot path is two
 * statements (read the stream; insert the decision and count it in one CTE), and the verdict path needs an explicit
 * row lock; both are clearer and cheaper as SQL. The datasource is not JTA-enlisted
 * ({@code quarkus.datasource.jdbc.transactions=disabled}); transactions are demarcated here.
 */
@ApplicationScoped
public class Ledger {

    private final AgroalDataSource dataSource;

    public Ledger(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Runs {@code work} with auto-commit: every statement is its own durable transaction. */
    public <T> T withConnection(SqlWork<T> work) {
        try (Connection connection = dataSource.getConnection()) {
            return work.run(connection);
        } catch (SQLException e) {
            throw new LedgerUnavailableException("ledger database failed: " + e.getMessage(), e);
        }
    }

    /** Runs {@code work} in one transaction, committed before this returns (rolled back on any failure). */
    public <T> T inTransaction(SqlWork<T> work) {
        return withConnection(connection -> inTransaction(connection, work));
    }

    /** Runs {@code work} in one transaction on an open auto-commit connection, then restores auto-commit. */
    public static <T> T inTransaction(Connection connection, SqlWork<T> work) throws SQLException {
        connection.setAutoCommit(false);
        try {
            T result = work.run(connection);
            connection.commit();
            return result;
        } catch (SQLException | RuntimeException | Error e) {
            try {
                connection.rollback();
            } catch (SQLException rollbackFailure) {
                e.addSuppressed(rollbackFailure);
            }
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }
}
