package dev.tandem.audit.repository;

import java.sql.SQLException;

/**
 * The ledger database refused a record's content (SQLState class 22, data exception, or 23, integrity constraint):
 * not an outage, so retrying the same record fails the same way. The request checks are meant to refuse such input
 * before it is written; one that reaches the database is a gap in them.
 */
public class LedgerRefusedException extends RuntimeException {

    public LedgerRefusedException(String message, Throwable cause) {
        super(message, cause);
    }

    /** What the database said, first line (PostgreSQL adds the failing row's values on the next ones). */
    public String databaseMessage() {
        SQLException sql = refusal(this);
        String text = sql == null || sql.getMessage() == null ? "refused" : sql.getMessage();
        int end = text.indexOf('\n');
        return (end < 0 ? text : text.substring(0, end)).strip();
    }

    /** The SQLException of a data or integrity error in {@code failure}'s causes, or null when it is none. */
    public static SQLException refusal(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("22") || sql.getSQLState().startsWith("23"))) {
                return sql;
            }
        }
        return null;
    }
}
