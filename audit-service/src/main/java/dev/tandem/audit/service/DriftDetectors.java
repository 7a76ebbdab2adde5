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
 * <p><b>Bernoulli CUSUM on the unlabelled confidence distribution</b>, fed by every output: z = 1 when raw
 * confidence is under the reference quantile q_ref (the q-quantile of the evidence window, so P(z) = q in control),
 * w = z·ln(q₁/q) + (1 − z)·ln((1 − q₁)/(1 − q)), alarm at S ≥ h_c. A batch of increments is applied at once
 * exactly: S_n = max(S_0 + Σ w, max_k Σ_{i ≥ k} w_i, 0) (Lindley's recursion unrolled).
 */
public final class DriftDetectors {

    private DriftDetectors() {
    }

    public static double outcomeIncrement(boolean rejected, double expectedError, double oddsRatio, double floor) {
        double p = Math.min(1 - floor, Math.max(floor, expectedError));
        return (rejected ? Math.log(oddsRatio) : 0.0) - Math.log(1 - p + oddsRatio * p);
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
