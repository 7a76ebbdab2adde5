package dev.tandem.audit;

/** What happens to a worker output. */
public enum AuditAction {
    PASS,
    REVIEW
}
