package dev.tandem.audit;

/** A ledger query: empty or null fields match everything; {@code limit} is already bounded by the caller. */
public record DecisionFilter(String taskId, String workerBackend, String workerType, int limit) {
}
