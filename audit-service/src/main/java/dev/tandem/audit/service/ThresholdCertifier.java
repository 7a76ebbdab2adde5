package dev.tandem.audit.service;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.apache.commons.math3.distribution.BinomialDistribution;

import dev.tandem.audit.WindowEntry;

/**
 * Certifies a raw-confidence threshold by Learn-then-Test fixed-sequence testing (Angelopoulos et al. 2021).
 *
 * <p>Data: the evidence window's decisions (unlabelled: every output's raw confidence) and its certification
 * sample (outputs whose uniform draw fell under the state's sampling rate; all of them were reviewed, whatever
 * their confidence, so with exchangeable outputs they are a simple random sample of the stream).
 *
 * <p>Candidates λ_j, j = 1..J, are the raw-confidence quantiles that pass the share j/J of the window's
 * validated outputs, tested from the strictest (j = 1) to the loosest. For λ_j: s_j = share of window outputs the
 * confidence rule passes (validation passed and raw ≥ λ_j); α_j = A / s_j, the error rate among passed outputs that
 * keeps outgoing errors per output at A; n_j, k_j = certification-sample outputs λ_j passes and the rejected among
 * them; p_j = P(Binomial(n_j, α_j) ≤ k_j), a valid p-value for H_j: error rate among passed > α_j. Testing stops at
 * the first p_j &gt; δ; the last λ_j that passed is certified: P(error rate among passed outputs ≤ α) ≥ 1 − δ, hence
 * outgoing errors ≤ A per output with the same probability (shadow reviews do not correct, so they count as
 * outgoing). The grid comes from unlabelled confidences only, so it does not spend the labels.
 */
public final class ThresholdCertifier {

    private ThresholdCertifier() {
    }

    /**
     * @param threshold certified raw threshold (NaN when none is)
     * @param passShare s of the certified (or, uncertified, of the strictest tested) threshold
     */
    public record Certificate(boolean certified, double threshold, double passShare, double alpha, long samples,
            long errors, double pValue, int tested, String explanation) {
    }

    /**
     * @param window recent decisions of the evidence window (unlabelled: the grid and the pass shares)
     * @param certification the certification-sample decisions of the evidence window (labelled when reviewed)
     */
    public static Certificate certify(List<WindowEntry> window, List<WindowEntry> certification, double target,
            double delta, int steps) {
        double[] passedRaw = window.stream().filter(WindowEntry::validationPassed)
                .mapToDouble(WindowEntry::rawConfidence).sorted().toArray();
        int n = window.size();
        if (passedRaw.length == 0) {
            return new Certificate(false, Double.NaN, 0, target, 0, 0, 1, 0,
                    "no validated output in the evidence window yet");
        }
        // Certification sample sorted by raw confidence, with cumulative errors from the top: n_j and k_j by search.
        double[][] sample = certification.stream().filter(e -> e.certificationSample() && e.reviewed()
                && e.validationPassed()).map(e -> new double[] { e.rawConfidence(), e.rejected() ? 1 : 0 })
                .sorted((x, y) -> Double.compare(x[0], y[0])).toArray(double[][]::new);
        double[] sampleRaw = new double[sample.length];
        long[] errorsFromTop = new long[sample.length + 1];
        for (int i = sample.length - 1; i >= 0; i--) {
            sampleRaw[i] = sample[i][0];
            errorsFromTop[i] = errorsFromTop[i + 1] + (long) sample[i][1];
        }
        Certificate best = null;
        Certificate firstFailure = null;
        double previous = Double.NaN;
        for (int j = 1; j <= steps; j++) {
            int passCount = (int) Math.ceil((double) j * passedRaw.length / steps);
            double lambda = passedRaw[passedRaw.length - passCount];
            if (lambda == previous) {
                continue; // ties: the same threshold was tested already
            }
            previous = lambda;
            long passed = countAtLeast(passedRaw, lambda);
            double share = (double) passed / n;
            double alpha = Math.min(1.0, target / share);
            long ns = countAtLeast(sampleRaw, lambda);
            long ks = errorsFromTop[sampleRaw.length - (int) ns];
            double p = pValue(ks, ns, alpha);
            Certificate c = new Certificate(p <= delta, lambda, share, alpha, ns, ks, p, j, null);
            if (p > delta) {
                firstFailure = c;
                break;
            }
            best = c;
        }
        if (best == null) {
            Certificate f = firstFailure;
            return new Certificate(false, Double.NaN, f == null ? 0 : f.passShare(), f == null ? target : f.alpha(),
                    f == null ? 0 : f.samples(), f == null ? 0 : f.errors(), f == null ? 1 : f.pValue(),
                    f == null ? 0 : f.tested(), String.format(Locale.ROOT,
                            "no threshold certified: even the strictest candidate (passing %.0f %% of outputs) has "
                                    + "%d errors in %d sampled outputs, p = %.3f > δ = %.2f for α = %.2f %%",
                            100 * (f == null ? 0 : f.passShare()), f == null ? 0 : f.errors(),
                            f == null ? 0 : f.samples(), f == null ? 1 : f.pValue(), delta,
                            100 * (f == null ? target : f.alpha())));
        }
        String why = String.format(Locale.ROOT,
                "raw threshold %.4f certified by Learn-then-Test: passes %.1f %% of outputs; %d errors in %d "
                        + "certification-sample outputs it passes, p = %.4f <= δ = %.2f for an error rate among "
                        + "passed outputs of at most %.2f %% (outgoing at most %.2f %%)%s",
                best.threshold(), 100 * best.passShare(), best.errors(), best.samples(), best.pValue(), delta,
                100 * best.alpha(), 100 * target,
                firstFailure == null ? "; every looser candidate passed too"
                        : String.format(Locale.ROOT, "; the next looser candidate failed (p = %.3f)",
                                firstFailure.pValue()));
        return new Certificate(true, best.threshold(), best.passShare(), best.alpha(), best.samples(), best.errors(),
                best.pValue(), best.tested(), why);
    }

    /** P(Binomial(n, alpha) ≤ k): small when k errors in n are unlikely if the error rate were alpha or more. */
    public static double pValue(long k, long n, double alpha) {
        if (alpha >= 1.0) {
            return 0.0; // an error rate above 1 is impossible
        }
        if (n == 0) {
            return 1.0;
        }
        return new BinomialDistribution(null, (int) n, alpha).cumulativeProbability((int) k);
    }

    private static long countAtLeast(double[] sorted, double lambda) {
        int i = Arrays.binarySearch(sorted, lambda);
        if (i < 0) {
            i = -i - 1;
        } else {
            while (i > 0 && sorted[i - 1] == lambda) {
                i--;
            }
        }
        return sorted.length - i;
    }
}
