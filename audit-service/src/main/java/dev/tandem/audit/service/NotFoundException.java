package dev.tandem.audit.service;

/** A decision or stream that the ledger does not hold. */
public class NotFoundException extends RuntimeException {

    public NotFoundException(String message) {
        super(message);
    }
}
