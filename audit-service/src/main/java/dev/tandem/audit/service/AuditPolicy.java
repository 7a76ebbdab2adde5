package dev.tandem.audit.service;

import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;

/**
 * Decides whether one output is reviewed. The first rule that applies wins:
 * <ol>
 * <li>stream in PROBATION: review, blocking (PROBATION);</li>
 * <li>stream TIGHTENED or SUSPENDED: review, blocking (TIGHTENED);</li>
 * <li>a validation gate failed: review, blocking (VALIDATION_FAILED);</li>
 * <li>confidence under the stream's threshold: review, blocking (LOW_CONFIDENCE);</li>
 * <li>the deterministic draw u(seed, decision id) &lt; the state's sampling rate: review in shadow mode
 * (RANDOM_SAMPLE); otherwise pass (TRUSTED).</li>
 * </ol>
 * The recorded sampling probability is the probability with which the output was selected for review: 1 for the
 * forced rules, the state's rate for confident outputs (the weight an inverse-probability estimate needs).
 */
@ApplicationScoped
public class AuditPolicy {

    private final AuditConfig config;

    public AuditPolicy(AuditConfig config) {
        this.config = config;
    }

    public Decision decide(DecisionRequest request, StreamRecord stream) {
        TrustState state = stream.state();
        double threshold = stream.confidenceThreshold();
        String name = stream.key().toString();
        if (state == TrustState.PROBATION) {
            return review(AuditReason.PROBATION, ReviewMode.BLOCKING, 1.0, stream, String.format(Locale.ROOT,
                    "Reviewed because stream %s is in probation, where every output is reviewed until the %.0f %% "
                            + "upper bound of its error rate is at most %.1f %%.",
                    name, 100 * config.trust().credibleLevel(), 100 * config.trust().targetErrorRate()));
        }
        if (state == TrustState.TIGHTENED || state == TrustState.SUSPENDED) {
            return review(AuditReason.TIGHTENED, ReviewMode.BLOCKING, 1.0, stream, String.format(Locale.ROOT,
                    "Reviewed because stream %s is %s after rejected reviews, so every output is reviewed until a "
                            + "clean run restores trust.",
                    name, state.name().toLowerCase(Locale.ROOT)));
        }
        if (!request.validationPassed()) {
            return review(AuditReason.VALIDATION_FAILED, ReviewMode.BLOCKING, 1.0, stream,
                    "Reviewed because the output failed a validation gate.");
        }
        if (request.confidence() < threshold) {
            return review(AuditReason.LOW_CONFIDENCE, ReviewMode.BLOCKING, 1.0, stream, String.format(Locale.ROOT,
                    "Reviewed because confidence %.3f is under the threshold %.3f of stream %s.",
                    request.confidence(), threshold, name));
        }
        double rate = stream.samplingRate();
        double draw = SamplingDraw.uniform(config.sampling().seed(), request.decisionId());
        if (draw < rate) {
            return review(AuditReason.RANDOM_SAMPLE, ReviewMode.SHADOW, rate, stream, String.format(Locale.ROOT,
                    "Reviewed in shadow mode: picked by the %.1f %% random sample of the %s state although "
                            + "confidence %.3f meets the threshold %.3f.",
                    100 * rate, state.name(), request.confidence(), threshold));
        }
        return new Decision(AuditAction.PASS, AuditReason.TRUSTED, ReviewMode.NONE, rate, threshold, state,
                String.format(Locale.ROOT,
                        "Passed: stream %s is %s, confidence %.3f meets the threshold %.3f and the output was not "
                                + "among the %.1f %% sampled for review.",
                        name, state.name(), request.confidence(), threshold, 100 * rate));
    }

    private static Decision review(AuditReason reason, ReviewMode mode, double probability, StreamRecord stream,
            String explanation) {
        return new Decision(AuditAction.REVIEW, reason, mode, probability, stream.confidenceThreshold(),
                stream.state(), explanation);
    }
}
