package dev.tandem.audit.service;

import jakarta.inject.Singleton;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.policy.DecisionRule;
import dev.tandem.audit.policy.PolicyDecision;
import dev.tandem.audit.policy.PolicyInput;
import dev.tandem.audit.policy.PolicyState;
import dev.tandem.audit.policy.DecisionPolicy;

/**
 * Decides whether one output is reviewed, by the shared {@link DecisionRule} (module audit-policy, which documents
 * the rule): the oracle decides with the same code on the policies this service publishes ({@link #policy}), so a
 * decision taken there under the current policy is the one Decide would take.
 */
// A singleton, not @ApplicationScoped: injected as itself, without the client proxy whose context look-up on every
// call was about 4 % of the service's CPU on the Decide path at 5,000/s (issue 16).
@Singleton
public class AuditPolicy {

    private final AuditConfig config;

    public AuditPolicy(AuditConfig config) {
        this.config = config;
    }

    public Decision decide(DecisionRequest request, StreamRecord stream) {
        PolicyDecision d = DecisionRule.decide(new PolicyInput(request.decisionId(), request.confidence(),
                request.rawConfidence(), request.validationPassed()), policy(stream), seed());
        return new Decision(d.review() ? AuditAction.REVIEW : AuditAction.PASS, AuditReason.valueOf(d.reason().name()),
                ReviewMode.valueOf(d.mode().name()), d.samplingProbability(), d.blockingProbability(),
                d.certificationSample(), stream.confidenceThreshold(), stream.rawThreshold(),
                stream.thresholdCertified(), d.calibratedConfidence(), stream.state(), d.explanation());
    }

    /** The draw's seed ({@code tandem.audit.sampling.seed}), published with the policies. */
    public String seed() {
        return config.sampling().seed();
    }

    /** What the rule reads of a stream: its record plus the configured targets the explanations name. */
    public DecisionPolicy policy(StreamRecord stream) {
        double outgoingTarget = config.target().forStream(stream.key());
        return new DecisionPolicy(stream.key().toString(), stream.policyVersion(),
                PolicyState.valueOf(stream.state().name()), stream.rawThreshold(), stream.thresholdCertified(),
                stream.confidenceThreshold(), stream.samplingRate(), stream.blockingRate(), stream.calibration(),
                config.trust().credibleLevel(), config.trust().targetErrorRate(outgoingTarget), outgoingTarget);
    }
}
