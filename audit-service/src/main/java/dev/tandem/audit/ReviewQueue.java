package dev.tandem.audit;

/** Who works a review queue: the shadow reviewer (the oracle model through the router) or people. */
public enum ReviewQueue {
    MODEL,
    HUMAN
}
