package dev.tandem.audit;

/**
 * One decision of a stream's evidence window as the refit reads it: what was decided and, once reviewed, the
 * verdict ({@code verdict} null until then).
 */
public record WindowEntry(
        String decisionId,
        long seq,
        double rawConfidence,
        boolean validationPassed,
        AuditAction action,
        ReviewMode mode,
        AuditReason reason,
        double samplingProbability,
        double blockingProbability,
        boolean certificationSample,
        Verdict verdict) {

    public boolean reviewed() {
        return verdict != null;
    }

    public boolean rejected() {
        return verdict == Verdict.REJECTED;
    }
}
