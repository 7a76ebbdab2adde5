package dev.tandem.audit;

import java.time.Instant;

/**
 * The trust record of one stream, as stored in {@code streams}.
 *
 * @param reviewRequested decisions whose action was REVIEW
 * @param stateReviewed reviews since the current state began
 * @param stateRejected rejections since the current state began
 * @param recentOutcomes the latest review outcomes, oldest first ('A' accepted, 'R' rejected)
 */
public record StreamRecord(
        StreamKey key,
        TrustState state,
        long decided,
        long reviewRequested,
        long reviewed,
        long rejected,
        long consecutiveAccepted,
        long stateReviewed,
        long stateRejected,
        String recentOutcomes,
        double samplingRate,
        double confidenceThreshold,
        double errorRateUpperBound,
        Instant stateSince,
        long version) {

    public long accepted() {
        return reviewed - rejected;
    }

    /** Share of decided outputs sent to review; 1 before the first decision (a new stream reviews everything). */
    public double reviewRate() {
        return decided == 0 ? 1.0 : (double) reviewRequested / decided;
    }
}
