package dev.tandem.audit.service;

import dev.tandem.audit.Decision;

/**
 * A stored decision; {@code replayed} when the decision id had been decided before.
 *
 * @param redecided a recorded local decision that was taken under an older policy version, or that differs from
 *        the service's own under the current one, so the stored decision is the service's
 * @param policyVersion the policy version the stored decision was taken under (0 for a replay: not known)
 */
public record DecideOutcome(String decisionId, Decision decision, boolean replayed, boolean redecided,
        long policyVersion) {

    public DecideOutcome(String decisionId, Decision decision, boolean replayed) {
        this(decisionId, decision, replayed, false, 0);
    }
}
