package dev.tandem.audit.policy;

/** A stream's trust state, as far as the decision rule reads it (names match the audit's and the proto's). */
public enum PolicyState {
    PROBATION,
    NORMAL,
    REDUCED,
    TIGHTENED,
    SUSPENDED
}
