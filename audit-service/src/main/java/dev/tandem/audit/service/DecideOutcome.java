package dev.tandem.audit.service;

import dev.tandem.audit.Decision;

/** A stored decision; {@code replayed} when the decision id had been decided before. */
public record DecideOutcome(String decisionId, Decision decision, boolean replayed) {
}
