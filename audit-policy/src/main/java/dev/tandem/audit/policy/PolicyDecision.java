package dev.tandem.audit.policy;

/**
 * The rule's decision on one output.
 *
 * @param draw the uniform draw u the sampling rules compared
 * @param samplingProbability probability the output was selected for review (the IPW weight is 1 / it)
 * @param blockingProbability probability it was reviewed blocking
 * @param certificationSample u fell under the state's sampling rate (the uniform certification sample)
 * @param calibratedConfidence the caller's calibrated confidence, else the stream's map applied
 */
public record PolicyDecision(
        boolean review,
        Reason reason,
        Mode mode,
        double draw,
        double samplingProbability,
        double blockingProbability,
        boolean certificationSample,
        double calibratedConfidence,
        String explanation) {

    /** Why (names match the audit's AuditReason and the proto's). */
    public enum Reason {
        TRUSTED,
        PROBATION,
        LOW_CONFIDENCE,
        RANDOM_SAMPLE,
        TIGHTENED,
        VALIDATION_FAILED,
        OUTGOING_LIMIT
    }

    /** Whether the output waits for the verdict (names match the audit's ReviewMode). */
    public enum Mode {
        NONE,
        BLOCKING,
        SHADOW
    }
}
