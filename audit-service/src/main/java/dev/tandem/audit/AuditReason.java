package dev.tandem.audit;

/** Why an output is (or is not) reviewed. */
public enum AuditReason {
    TRUSTED,
    PROBATION,
    LOW_CONFIDENCE,
    RANDOM_SAMPLE,
    TIGHTENED,
    VALIDATION_FAILED
}
