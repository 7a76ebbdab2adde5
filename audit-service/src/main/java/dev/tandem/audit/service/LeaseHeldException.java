package dev.tandem.audit.service;

/** A review task is leased to another reviewer: the submit is refused (FAILED_PRECONDITION / 409). */
public class LeaseHeldException extends RuntimeException {

    public LeaseHeldException(String message) {
        super(message);
    }
}
