package dev.tandem.router.service;

/** A step could not be routed or every backend tried failed; the kind says which, the message says why. */
public class RoutingFailedException extends RuntimeException {

    /** Why routing failed. */
    public enum Kind {
        /** No candidate meets the step's requirements. */
        NO_CANDIDATE,
        /** Every qualifying pool is full. */
        POOLS_FULL,
        /** Every backend tried failed or had its circuit open. */
        BACKENDS_FAILED,
        /** The caller's deadline passed during failover. */
        DEADLINE_EXCEEDED
    }

    private final Kind kind;

    public RoutingFailedException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
