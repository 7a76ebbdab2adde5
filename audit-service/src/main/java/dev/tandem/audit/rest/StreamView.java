package dev.tandem.audit.rest;

import java.time.Instant;

import dev.tandem.audit.StreamRecord;

/** A stream's trust record as the admin API shows it. */
public record StreamView(
        String workerBackend,
        String workerType,
        String tenant,
        String state,
        long decided,
        long reviewRequested,
        double reviewRate,
        long reviewed,
        long rejected,
        long consecutiveAccepted,
        double samplingRate,
        double confidenceThreshold,
        double errorRateUpperBound,
        Instant stateSince) {

    static StreamView of(StreamRecord s) {
        return new StreamView(s.key().workerBackend(), s.key().workerType(), s.key().tenant(), s.state().name(),
                s.decided(), s.reviewRequested(), s.reviewRate(), s.reviewed(), s.rejected(),
                s.consecutiveAccepted(), s.samplingRate(), s.confidenceThreshold(), s.errorRateUpperBound(),
                s.stateSince());
    }
}
