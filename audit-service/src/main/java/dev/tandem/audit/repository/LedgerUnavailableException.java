package dev.tandem.audit.repository;

/** The ledger database could not be reached or failed; the write is not acknowledged and may be retried. */
public class LedgerUnavailableException extends RuntimeException {

    public LedgerUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
