package dev.tandem.router.selection;

/** Which rule excluded a candidate, in the order the rules are applied. */
public enum RejectionKind {
    WORKER_TYPE,
    EXCLUDED,
    CAPABILITY,
    CONTEXT_WINDOW,
    TIER,
    RESIDENCY,
    CIRCUIT_OPEN,
    RATE_LIMITED,
    POOL_FULL,
    LATENCY,
    QUALITY,
    ERROR_TARGET,
    BUDGET,
    EXPLORATION_BUDGET,
    RETIRED;

    /** True for the rules a candidate fails only because of live state (it meets the step's requirements). */
    public boolean live() {
        return this == CIRCUIT_OPEN || this == RATE_LIMITED || this == POOL_FULL;
    }
}
