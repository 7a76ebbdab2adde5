package dev.tandem.audit.policy;

import dev.tandem.calibration.CalibrationMap;

/**
 * What the decision rule reads of one stream: published by the audit service ({@code GetPolicies}) and read by
 * it from its own stream record.
 *
 * @param stream the stream's name for explanations ("backend/type", "@tenant" when it has its own)
 * @param version changes whenever any other field changes
 * @param rawThreshold λ, the raw-confidence threshold
 * @param confidenceThreshold calibrated value of λ
 * @param samplingRate f, the state's sampling rate
 * @param blockingRate b, the blocking sample rate
 * @param calibration the stream's map, applied when a decision carries no calibrated confidence (null: none)
 * @param credibleLevel credible level of the probation bound (explanation only)
 * @param probationErrorTarget error-rate target of the probation bound (explanation only)
 * @param outgoingErrorTarget the stream's outgoing error target (explanation only)
 */
public record DecisionPolicy(
        String stream,
        long version,
        PolicyState state,
        double rawThreshold,
        boolean thresholdCertified,
        double confidenceThreshold,
        double samplingRate,
        double blockingRate,
        CalibrationMap calibration,
        double credibleLevel,
        double probationErrorTarget,
        double outgoingErrorTarget) {
}
