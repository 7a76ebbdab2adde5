package dev.tandem.audit;

import java.time.Instant;

/** A ledger query: empty or null fields match everything; {@code limit} is already bounded by the caller. */
public record DecisionFilter(String taskId, String workerBackend, String workerType, String tenant,
        Instant decidedAfter, Instant decidedBefore, int limit) {

    public DecisionFilter(String taskId, String workerBackend, String workerType, int limit) {
        this(taskId, workerBackend, workerType, null, null, null, limit);
    }
}
