package dev.tandem.audit;

import java.time.Instant;

/** A review waiting for a verdict, with the payload a reviewer needs; lease fields are null while pending. */
public record ReviewTask(
        DecisionEntry entry,
        ReviewQueue queue,
        Instant enqueuedAt,
        int attempts,
        String lastError,
        String claimedBy,
        String claimToken,
        Instant leaseUntil) {
}
