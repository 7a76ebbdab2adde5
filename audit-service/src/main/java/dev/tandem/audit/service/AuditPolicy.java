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
 * Decides whether one output is reviewed: the strictest of the forced rules, the confidence rule and the sampling
 * rule. With u = u(seed, decision id) uniform in [0, 1), f the state's sampling rate, λ the stream's raw-confidence
 * threshold (certified by {@link ThresholdCertifier}, the configured default until then) and b the blocking sample
 * rate ({@link PolicyFitter}), the first rule that applies wins:
 * <ol>
 * <li>stream PROBATION: review, blocking (PROBATION); TIGHTENED or SUSPENDED: review, blocking (TIGHTENED);</li>
 * <li>a validation gate failed: review, blocking (VALIDATION_FAILED);</li>
 * <li>raw confidence &lt; λ: review, blocking (LOW_CONFIDENCE);</li>
 * <li>u &lt; b: review, blocking (OUTGOING_LIMIT): the sample that holds outgoing errors under target while the
 * bound on passed outputs' error rate is above its limit;</li>
 * <li>u &lt; a = max(b, f): review in shadow mode (RANDOM_SAMPLE);</li>
 * <li>otherwise pass (TRUSTED).</li>
 * </ol>
 * Recorded with every decision: the sampling probability (1 for rules 1–3, a for 4–6: the IPW weight is 1/it), the
 * blocking probability (1, or b), and whether u &lt; a (u &lt; 1 in the forced states): that draw ignores confidence
 * and outcome, so those outputs (all reviewed, whatever their confidence) form the stream's uniform certification
 * sample. Every output the draw reviews counts, not only those under f: while the blocking sample b is above f
 * (right after clearance b starts at 1) the reviews it pays for are evidence for the certificate too, so the
 * certificate and the lower blocking rates that follow from it come sooner for the same review spend. The rate a is
 * chosen from past outputs only, so the sample stays a random sample of the stream. The draw is SHA-256 of
 * (seed, decision id), so a retried Decide gets the same answer.
 */
@ApplicationScoped
public class AuditPolicy {

    private final AuditConfig config;

    public AuditPolicy(AuditConfig config) {
        this.config = config;
    }

    public Decision decide(DecisionRequest request, StreamRecord stream) {
        TrustState state = stream.state();
        double raw = request.rawConfidence();
        double calibrated = request.calibratedConfidence(stream.calibration());
        double lambda = stream.rawThreshold();
        double f = stream.samplingRate();
        double u = SamplingDraw.uniform(config.sampling().seed(), request.decisionId());
        double b = Math.min(1.0, Math.max(0.0, stream.blockingRate()));
        double a = Math.max(b, f);
        boolean certificationSample = u < a;
        String name = stream.key().toString();
        if (state == TrustState.PROBATION) {
            return forced(AuditReason.PROBATION, stream, calibrated, true, String.format(Locale.ROOT,
                    "Reviewed because stream %s is in probation, where every output is reviewed until the %.0f %% "
                            + "upper bound of its error rate is at most %.1f %%.",
                    name, 100 * config.trust().credibleLevel(), 100 * config.trust().targetErrorRate(config.target().forStream(stream.key()))));
        }
        if (state == TrustState.TIGHTENED || state == TrustState.SUSPENDED) {
            return forced(AuditReason.TIGHTENED, stream, calibrated, true, String.format(Locale.ROOT,
                    "Reviewed because stream %s is %s, so every output is reviewed until the evidence restores "
                            + "trust.", name, state.name().toLowerCase(Locale.ROOT)));
        }
        if (!request.validationPassed()) {
            return forced(AuditReason.VALIDATION_FAILED, stream, calibrated, certificationSample,
                    "Reviewed because the output failed a validation gate.");
        }
        String threshold = String.format(Locale.ROOT, "%s threshold %.4f (calibrated %.3f)",
                stream.thresholdCertified() ? "certified" : "default, not yet certified,", lambda,
                stream.confidenceThreshold());
        if (raw < lambda) {
            return forced(AuditReason.LOW_CONFIDENCE, stream, calibrated, certificationSample, String.format(
                    Locale.ROOT, "Reviewed because raw confidence %.4f (calibrated %.3f) is under the %s of stream %s.",
                    raw, calibrated, threshold, name));
        }
        if (u < b) {
            return new Decision(AuditAction.REVIEW, AuditReason.OUTGOING_LIMIT, ReviewMode.BLOCKING, a, b,
                    certificationSample, stream.confidenceThreshold(), lambda, stream.thresholdCertified(),
                    calibrated, state, String.format(Locale.ROOT,
                            "Reviewed before release: picked by the %.1f %% blocking sample that holds the outgoing "
                                    + "error of stream %s under %.2f %% while the bound on its passed outputs' error "
                                    + "rate is above the limit (confidence %.4f meets the %s).",
                            100 * b, name, 100 * config.target().forStream(stream.key()), raw, threshold));
        }
        if (u < a) {
            return new Decision(AuditAction.REVIEW, AuditReason.RANDOM_SAMPLE, ReviewMode.SHADOW, a, b,
                    certificationSample, stream.confidenceThreshold(), lambda, stream.thresholdCertified(),
                    calibrated, state, String.format(Locale.ROOT,
                            "Reviewed in shadow mode: picked by the %.1f %% sample of the %s state although "
                                    + "confidence %.4f meets the %s.",
                            100 * a, state.name(), raw, threshold));
        }
        return new Decision(AuditAction.PASS, AuditReason.TRUSTED, ReviewMode.NONE, a, b, certificationSample,
                stream.confidenceThreshold(), lambda, stream.thresholdCertified(), calibrated, state,
                String.format(Locale.ROOT,
                        "Passed: stream %s is %s, raw confidence %.4f meets the %s and the output was not among "
                                + "the %.1f %% sampled for review.",
                        name, state.name(), raw, threshold, 100 * a));
    }

    private static Decision forced(AuditReason reason, StreamRecord stream, double calibrated,
            boolean certificationSample, String explanation) {
        return new Decision(AuditAction.REVIEW, reason, ReviewMode.BLOCKING, 1.0, 1.0, certificationSample,
                stream.confidenceThreshold(), stream.rawThreshold(), stream.thresholdCertified(), calibrated,
                stream.state(), explanation);
    }
}
