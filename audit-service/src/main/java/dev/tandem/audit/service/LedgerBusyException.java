package dev.tandem.audit.service;

import dev.tandem.audit.repository.LedgerUnavailableException;

/**
 * The decision was not committed in time because the ledger is behind (the group-commit queue did not reach it).
 * Not retried inside the service: a retry would queue the same work again behind the backlog; the caller gets
 * UNAVAILABLE and retries with the same decision id after its own back-off.
 */
public class LedgerBusyException extends LedgerUnavailableException {

    public LedgerBusyException(String message, Throwable cause) {
        super(message, cause);
    }
}
