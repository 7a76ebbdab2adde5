package dev.tandem.audit;

/**
 * A decision the caller (the oracle) took itself under a published policy, to be recorded (RecordDecisions).
 *
 * @param policyVersion the policy version it was taken under
 * @param draw the sampling draw the caller used
 */
public record LocalDecision(DecisionRequest request, long policyVersion, double draw, AuditAction action,
        AuditReason reason, ReviewMode mode) {

    /** True when the stored decision says the same as this one (what the caller acted on). */
    public boolean sameAs(Decision d) {
        return action == d.action() && reason == d.reason() && mode == d.mode();
    }
}
