package dev.tandem.audit.rest;

import java.time.Instant;
import java.util.Map;

import dev.tandem.audit.ReviewTask;

/** A review task as the review-queue API shows it (claim fields null while pending). */
public record ReviewTaskView(
        String decisionId,
        String queue,
        String taskId,
        String stepId,
        String workerBackend,
        String workerType,
        String tenant,
        Map<String, String> inputs,
        String candidateOutput,
        String instructions,
        double confidence,
        String reason,
        Instant enqueuedAt,
        int attempts,
        String lastError,
        String claimedBy,
        String claimToken,
        Instant leaseExpiresAt) {

    static ReviewTaskView of(ReviewTask t) {
        var r = t.entry().request();
        return new ReviewTaskView(r.decisionId(), t.queue().name(), r.taskId(), r.stepId(),
                r.stream().workerBackend(), r.stream().workerType(), t.entry().tenant(), r.inputs(),
                r.candidateOutput(), r.instructions(), r.confidence(), t.entry().decision().reason().name(),
                t.enqueuedAt(), t.attempts(), t.lastError(), t.claimedBy(), t.claimToken(), t.leaseUntil());
    }
}
