package dev.tandem.audit.service;

/** A decision already has a different verdict: verdicts are write-once. */
public class ConflictingVerdictException extends RuntimeException {

    public ConflictingVerdictException(String message) {
        super(message);
    }
}
