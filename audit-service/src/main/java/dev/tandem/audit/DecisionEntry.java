package dev.tandem.audit;

import java.time.Instant;

/** One ledger entry: the request, the decision, and the verdict once reviewed (null fields until then). */
public record DecisionEntry(
        DecisionRequest request,
        Decision decision,
        Instant decidedAt,
        Verdict verdict,
        String reviewer,
        String verdictReason,
        Instant verdictRecordedAt) {
}
