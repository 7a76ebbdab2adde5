package dev.tandem.audit;

/**
 * The audit decision for one output, with the evidence it was taken on.
 *
 * @param samplingProbability probability that this output was selected for review under the rules that applied
 *        (1 for forced reviews; the state's sampling rate a for confident outputs): the IPW weight is 1 / it
 * @param blockingProbability probability that it was reviewed blocking (1 for forced reviews; the blocking sample
 *        rate b for confident outputs): outgoing-error weights need it
 * @param certificationSample the uniform draw fell under the state's sampling rate (independent of confidence and
 *        outcome), so the output belongs to the certification sample
 * @param confidenceThreshold calibrated value of the raw threshold
 * @param calibratedConfidence the stream's calibration of the raw confidence
 */
public record Decision(
        AuditAction action,
        AuditReason reason,
        ReviewMode mode,
        double samplingProbability,
        double blockingProbability,
        boolean certificationSample,
        double confidenceThreshold,
        double rawThreshold,
        boolean thresholdCertified,
        double calibratedConfidence,
        TrustState state,
        String explanation) {

    /** The same decision with another explanation. */
    public Decision withExplanation(String text) {
        return new Decision(action, reason, mode, samplingProbability, blockingProbability, certificationSample,
                confidenceThreshold, rawThreshold, thresholdCertified, calibratedConfidence, state, text);
    }
}
