package dev.tandem.router.service;

/** Which rule excluded a candidate, in the order the rules are applied. */
public enum RejectionKind {
    EXCLUDED,
    WORKER_TYPE,
    CAPABILITY,
    CONTEXT_WINDOW,
    TIER,
    RESIDENCY,
    CIRCUIT_OPEN,
    POOL_FULL,
    LATENCY,
    BUDGET,
    QUALITY
}
