package dev.tandem.audit.policy;

import java.util.Locale;

import dev.tandem.audit.policy.PolicyDecision.Mode;
import dev.tandem.audit.policy.PolicyDecision.Reason;
import dev.tandem.calibration.CalibrationMap;

/**
 * Decides whether one output is reviewed: the strictest of the forced rules, the confidence rule and the sampling
 * rule. With u = u(seed, decision id) uniform in [0, 1) ({@link SamplingDraw}), f the state's sampling rate, λ the
 * stream's raw-confidence threshold (certified by the audit's ThresholdCertifier, the configured default until then)
 * and b the blocking sample rate (the audit's PolicyFitter), the first rule that applies wins:
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
 * (seed, decision id), so a retried decision gets the same answer, and the oracle deciding locally under the
 * published policy gets the answer the audit service would give under that policy.
 *
 * <p>A pure function (about a microsecond: one SHA-256 and a few comparisons): the audit service's Decide and its
 * re-decision of recorded decisions, and the oracle's local decisions, all run this one implementation.
 */
public final class DecisionRule {

    private DecisionRule() {
    }

    public static PolicyDecision decide(PolicyInput input, DecisionPolicy policy, String seed) {
        PolicyState state = policy.state();
        double raw = input.rawConfidence();
        double calibrated = input.confidence() != null ? input.confidence()
                : CalibrationMap.apply(policy.calibration(), raw);
        double lambda = policy.rawThreshold();
        double f = policy.samplingRate();
        double u = SamplingDraw.uniform(seed, input.decisionId());
        double b = Math.min(1.0, Math.max(0.0, policy.blockingRate()));
        double a = Math.max(b, f);
        boolean certificationSample = u < a;
        String name = policy.stream();
        if (state == PolicyState.PROBATION) {
            return forced(Reason.PROBATION, u, calibrated, true, String.format(Locale.ROOT,
                    "Reviewed because stream %s is in probation, where every output is reviewed until the %.0f %% "
                            + "upper bound of its error rate is at most %.1f %%.",
                    name, 100 * policy.credibleLevel(), 100 * policy.probationErrorTarget()));
        }
        if (state == PolicyState.TIGHTENED || state == PolicyState.SUSPENDED) {
            return forced(Reason.TIGHTENED, u, calibrated, true, String.format(Locale.ROOT,
                    "Reviewed because stream %s is %s, so every output is reviewed until the evidence restores "
                            + "trust.", name, state.name().toLowerCase(Locale.ROOT)));
        }
        if (!input.validationPassed()) {
            return forced(Reason.VALIDATION_FAILED, u, calibrated, certificationSample,
                    "Reviewed because the output failed a validation gate.");
        }
        String threshold = String.format(Locale.ROOT, "%s threshold %.4f (calibrated %.3f)",
                policy.thresholdCertified() ? "certified" : "default, not yet certified,", lambda,
                policy.confidenceThreshold());
        if (raw < lambda) {
            return forced(Reason.LOW_CONFIDENCE, u, calibrated, certificationSample, String.format(
                    Locale.ROOT, "Reviewed because raw confidence %.4f (calibrated %.3f) is under the %s of stream %s.",
                    raw, calibrated, threshold, name));
        }
        if (u < b) {
            return new PolicyDecision(true, Reason.OUTGOING_LIMIT, Mode.BLOCKING, u, a, b, certificationSample,
                    calibrated, String.format(Locale.ROOT,
                            "Reviewed before release: picked by the %.1f %% blocking sample that holds the outgoing "
                                    + "error of stream %s under %.2f %% while the bound on its passed outputs' error "
                                    + "rate is above the limit (confidence %.4f meets the %s).",
                            100 * b, name, 100 * policy.outgoingErrorTarget(), raw, threshold));
        }
        if (u < a) {
            return new PolicyDecision(true, Reason.RANDOM_SAMPLE, Mode.SHADOW, u, a, b, certificationSample,
                    calibrated, String.format(Locale.ROOT,
                            "Reviewed in shadow mode: picked by the %.1f %% sample of the %s state although "
                                    + "confidence %.4f meets the %s.",
                            100 * a, state.name(), raw, threshold));
        }
        return new PolicyDecision(false, Reason.TRUSTED, Mode.NONE, u, a, b, certificationSample, calibrated,
                String.format(Locale.ROOT,
                        "Passed: stream %s is %s, raw confidence %.4f meets the %s and the output was not among "
                                + "the %.1f %% sampled for review.",
                        name, state.name(), raw, threshold, 100 * a));
    }

    private static PolicyDecision forced(Reason reason, double u, double calibrated, boolean certificationSample,
            String explanation) {
        return new PolicyDecision(true, reason, Mode.BLOCKING, u, 1.0, 1.0, certificationSample, calibrated,
                explanation);
    }
}
