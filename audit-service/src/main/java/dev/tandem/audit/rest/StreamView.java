package dev.tandem.audit.rest;

import java.time.Instant;

import dev.tandem.audit.StreamRecord;
import dev.tandem.calibration.CalibrationMap;

/** A stream's trust record and policy as the admin API shows it. */
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
        double rawConfidenceThreshold,
        boolean thresholdCertified,
        String certification,
        double blockingSampleRate,
        double errorRateUpperBound,
        double errorRate,
        double outgoingErrorRate,
        double outgoingErrorLowerBound,
        double outgoingErrorUpperBound,
        long windowDecided,
        Instant windowSince,
        long driftAlarms,
        double outcomeCusum,
        double confidenceCusum,
        Double confidenceReference,
        CalibrationMap calibration,
        Instant stateSince) {

    static StreamView of(StreamRecord s) {
        return new StreamView(s.key().workerBackend(), s.key().workerType(), s.key().tenant(), s.state().name(),
                s.decided(), s.reviewRequested(), s.reviewRate(), s.reviewed(), s.rejected(),
                s.consecutiveAccepted(), s.samplingRate(), s.confidenceThreshold(), s.rawThreshold(),
                s.thresholdCertified(), s.certification(), s.blockingRate(), s.errorRateUpperBound(), s.errorRate(),
                s.outgoingErrorRate(), s.outgoingErrorLower(), s.outgoingErrorUpper(), s.windowDecided(),
                s.windowSince(), s.driftAlarms(), s.outcomeCusum(), s.confidenceCusum(), s.confidenceReference(),
                s.calibration(), s.stateSince());
    }
}
