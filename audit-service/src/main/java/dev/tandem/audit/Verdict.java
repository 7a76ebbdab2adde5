package dev.tandem.audit;

/** Outcome of a review. */
public enum Verdict {
    ACCEPTED,
    REJECTED
}
