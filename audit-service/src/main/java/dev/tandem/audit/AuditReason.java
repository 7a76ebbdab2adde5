package dev.tandem.audit;

/** Why an output is (or is not) reviewed. */
public enum AuditReason {
    TRUSTED,
    PROBATION,
    LOW_CONFIDENCE,
    RANDOM_SAMPLE,
    TIGHTENED,
    VALIDATION_FAILED,
    /** Blocking sample that holds the outgoing error under target while the passed outputs' bound is above it. */
    OUTGOING_LIMIT
}
