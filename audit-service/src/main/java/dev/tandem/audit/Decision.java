package dev.tandem.audit;

/** The audit decision for one output, with the evidence it was taken on. */
public record Decision(
        AuditAction action,
        AuditReason reason,
        ReviewMode mode,
        double samplingProbability,
        double confidenceThreshold,
        TrustState state,
        String explanation) {
}
