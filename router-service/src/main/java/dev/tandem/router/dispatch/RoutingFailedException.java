package dev.tandem.router.dispatch;

import dev.tandem.router.budget.Budget;

/** A step could not be routed or every backend tried failed; the kind says which, the message says why. */
public class RoutingFailedException extends RuntimeException {

    /** Why routing failed. */
    public enum Kind {
        /** No candidate meets the step's requirements. */
        NO_CANDIDATE,
        /** Every qualifying pool is full: the step is shed. */
        POOLS_FULL,
        /** Every qualifying backend is rate limited by its provider. */
        RATE_LIMITED,
        /** Every backend tried failed or had its circuit open. */
        BACKENDS_FAILED,
        /** The caller's deadline passed during failover. */
        DEADLINE_EXCEEDED,
        /** Candidates qualified but none fits a budget. */
        BUDGET_EXCEEDED
    }

    private final Kind kind;
    private final long retryAfterNanos;
    private final transient Budget budget;

    public RoutingFailedException(Kind kind, String message) {
        this(kind, message, 0, null);
    }

    public RoutingFailedException(Kind kind, String message, long retryAfterNanos) {
        this(kind, message, retryAfterNanos, null);
    }

    public RoutingFailedException(Kind kind, String message, long retryAfterNanos, Budget budget) {
        super(message);
        this.kind = kind;
        this.retryAfterNanos = retryAfterNanos;
        this.budget = budget;
    }

    public Kind kind() {
        return kind;
    }

    /** Suggested wait before retrying (load shedding, rate limits), 0 when none. */
    public long retryAfterNanos() {
        return retryAfterNanos;
    }

    /** The budget that excluded every candidate, for BUDGET_EXCEEDED. */
    public Budget budget() {
        return budget;
    }
}
