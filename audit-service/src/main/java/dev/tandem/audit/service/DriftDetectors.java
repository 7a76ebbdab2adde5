package dev.tandem.audit.service;

/**
 * The two CUSUM detectors of a stream.
 *
 * <p><b>Risk-adjusted CUSUM on audited outcomes</b> (Steiner et al., Biostatistics 2000): each verdict adds
 * w = y·ln R − ln(1 − p + R·p), y = 1 when rejected, p the expected error of that output (1 − calibrated
 * confidence, clamped to [floor, 1 − floor]), R the odds ratio to detect; S = max(0, S + w), alarm at S ≥ h. The
 * expectation of w is negative while the calibration holds and positive once the error odds are R times higher,
 * whatever mix of confidences was audited: oversampling low-confidence outputs makes it faster, not biased.
 *
 * <p><b>Reference (issue 18).</b> That expectation is negative only while the calibration fits: where it
 * under-predicts errors by an odds factor ρ, E[w] ≈ p·(ρ·ln R − (R − 1)) per review, which is positive from ρ = 1.44 at
 * R = 2 and eats the margin long before, so a calibration that fits the stream imperfectly reads as drift. The
 * reference p of an output is therefore the calibrated expected error shifted on the log-odds scale by
 * γ = γ̂ + z·se ({@link #referenceShift}): γ̂ the shift that the audited outcomes of the evidence window show against
 * the calibration (posterior mode under a N(0, 1) prior, so a window without errors gives a finite γ̂), se its
 * posterior standard deviation, z the margin for the calibration's own uncertainty. Only the outputs the CUSUM
 * itself sees in a trusted state are used (low confidence and sampled reviews), so γ̂ is measured on the mix the
 * CUSUM sums over. A drift of the error odds by R raises the outcomes above the reference as before.
 *
 * <p><b>A limit per stream (issue 18).</b> One h for every stream over-protects a stream whose reviews carry little
 * information and under-protects one whose reviews carry much: false alarms per output depend on both. With
 * I₀ = E[r·KL(p ‖ p_R)] the information per output of the reviews the CUSUM sees (r an output's review probability
 * under the policy, p its reference, p_R the same at R times the odds), Siegmund's approximation puts the mean
 * number of outputs to a false alarm at (e^h − h − 1)/I₀ ({@link #outcomeLimit}), so h is chosen for a budget of
 * false alarms per output rather than per review.
 *
 * <p><b>Bernoulli CUSUM on the unlabelled confidence distribution</b>, fed by every output: z = 1 when raw
 * confidence is under the reference quantile q_ref (the q-quantile of the evidence window, so P(z) = q in control),
 * w = z·ln(q₁/q) + (1 − z)·ln((1 − q₁)/(1 − q)), alarm at S ≥ h_c. A batch of increments is applied at once
 * exactly: S_n = max(S_0 + Σ w, max_k Σ_{i ≥ k} w_i, 0) (Lindley's recursion unrolled).
 */
public final class DriftDetectors {

    private DriftDetectors() {
    }

    public static double outcomeIncrement(boolean rejected, double expectedError, double oddsRatio, double floor) {
        return outcomeIncrement(rejected, expectedError, 0, oddsRatio, floor);
    }

    /** w against the reference: the expected error clamped to [floor, 1 − floor], then shifted by γ in log-odds. */
    public static double outcomeIncrement(boolean rejected, double expectedError, double gamma, double oddsRatio,
            double floor) {
        double p = reference(expectedError, gamma, floor);
        return (rejected ? Math.log(oddsRatio) : 0.0) - Math.log(1 - p + oddsRatio * p);
    }

    static double reference(double expectedError, double gamma, double floor) {
        double p = Math.min(1 - floor, Math.max(floor, expectedError));
        if (gamma == 0) {
            return p;
        }
        double odds = p / (1 - p) * Math.exp(gamma);
        return odds / (1 + odds);
    }

    /** Largest |γ| used: a shift beyond an odds factor of 4 means a broken fit, not a calibration to trust less. */
    static final double MAX_SHIFT = Math.log(4);

    /**
     * γ = γ̂ + z·se for outcomes y_i against expected errors p_i (already clamped): γ̂ maximises
     * Σ [y_i·ln p_i(γ) + (1 − y_i)·ln(1 − p_i(γ))] − γ²/2, p_i(γ) = σ(logit p_i + γ) (Newton), and
     * se = (Σ p_i(γ̂)(1 − p_i(γ̂)) + 1)^(−1/2); 0 without outcomes; clamped to ±ln 4.
     */
    public static double referenceShift(double[] expected, boolean[] rejected, double z) {
        if (expected.length == 0) {
            return 0;
        }
        double gamma = 0;
        double info = 1;
        for (int iter = 0; iter < 30; iter++) {
            double grad = -gamma;
            info = 1;
            for (int i = 0; i < expected.length; i++) {
                double p = reference(expected[i], gamma, 0);
                grad += (rejected[i] ? 1 : 0) - p;
                info += p * (1 - p);
            }
            double step = grad / info;
            gamma = Math.max(-2 * MAX_SHIFT, Math.min(2 * MAX_SHIFT, gamma + step));
            if (Math.abs(step) < 1e-6) {
                break;
            }
        }
        return Math.max(-MAX_SHIFT, Math.min(MAX_SHIFT, gamma + z / Math.sqrt(info)));
    }

    /**
     * KL(Bern(p) ‖ Bern(p_R)), p_R = R·p/(1 − p + R·p): the expected drop of the outcome CUSUM per review of an
     * output whose reference is p while the reference holds (−E[w]), what a false alarm has to climb against.
     */
    public static double informationAgainstChange(double p, double oddsRatio) {
        double d = 1 - p + oddsRatio * p; // p/p_R = d/R, (1 − p)/(1 − p_R) = d
        return p * Math.log(d / oddsRatio) + (1 - p) * Math.log(d);
    }

    /**
     * The outcome CUSUM's limit for a stream whose reviews carry {@code informationPerOutput} = I₀ per output
     * (Σ r·KL(p ‖ p_R) / outputs) and a budget of {@code falseAlarmRate} = ν false alarms per output: the h at which
     * Siegmund's mean run length (e^h − h − 1)/I₀ is 1/ν, clamped to [ln R, {@code max}] (from ln R one rejection
     * alone never alarms; {@code max} the configured limit). The closed form ignores the overshoot over h, which for
     * increments of up to ln R makes the true run length longer, so the budget holds with room where one rejection is
     * a large share of h. {@code max} when ν ≤ 0 or I₀ ≤ 0 (nothing to derive h from).
     */
    public static double outcomeLimit(double informationPerOutput, double falseAlarmRate, double oddsRatio,
            double max) {
        if (falseAlarmRate <= 0 || !(informationPerOutput > 0)) {
            return max;
        }
        double target = informationPerOutput / falseAlarmRate; // e^h − h − 1, increasing in h ≥ 0
        if (Math.exp(max) - max - 1 <= target) {
            return max;
        }
        double lo = 0;
        double hi = max;
        for (int i = 0; i < 60; i++) {
            double mid = (lo + hi) / 2;
            if (Math.exp(mid) - mid - 1 < target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return Math.min(max, Math.max(Math.log(oddsRatio), hi));
    }

    public static double confidenceIncrement(double raw, double reference, double share, double shiftedShare) {
        return raw < reference ? Math.log(shiftedShare / share) : Math.log((1 - shiftedShare) / (1 - share));
    }

    /** {total Σ w, max(0, largest suffix sum)}: S after the batch is max(S + total, suffix). */
    public static double[] batch(double[] increments) {
        double total = 0;
        double suffix = 0;
        for (int i = increments.length - 1; i >= 0; i--) {
            total += increments[i];
            suffix = Math.max(suffix, total);
        }
        return new double[] { total, suffix };
    }

    public static double apply(double s, double[] batch) {
        return Math.max(Math.max(0, s + batch[0]), batch[1]);
    }
}
