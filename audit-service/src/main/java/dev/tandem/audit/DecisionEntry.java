package dev.tandem.audit;

import java.time.Instant;

/**
 * One ledger entry: the request, the decision, and the verdict once reviewed (null fields until then).
 * {@code tenant} is the request's tenant (the stream key may be the shared stream); {@code seq} orders entries.
 */
public record DecisionEntry(
        long seq,
        String tenant,
        DecisionRequest request,
        Decision decision,
        Instant decidedAt,
        Verdict verdict,
        String reviewer,
        String verdictReason,
        String reviewerOutput,
        Instant verdictRecordedAt) {
}
