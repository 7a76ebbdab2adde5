package dev.tandem.audit.service;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.apache.commons.math3.distribution.BinomialDistribution;

import dev.tandem.audit.WindowEntry;

/**
 * Certifies a raw-confidence threshold by Learn-then-Test fixed-sequence testing (Angelopoulos et al. 2021) on a
 * monotone risk, as in risk-controlling prediction sets (Bates et al. 2021).
 *
 * <p>Data: the evidence window's decisions (unlabelled: every output's raw confidence) and its certification
 * sample (outputs whose uniform draw fell under the state's sampling rate; all of them were reviewed, whatever
 * their confidence, so with exchangeable outputs they are a simple random sample of the stream).
 *
 * <p>The risk of a threshold λ is R(λ) = P(an output passes λ and is wrong), the outgoing errors per output that
 * the confidence rule lets through; it only grows as λ loosens. Candidates λ_j, j = 1..J, are the raw-confidence
 * quantiles that pass the share j/J of the window's validated outputs, tested from the strictest (j = 1) to the
 * loosest. With n the certification-sample size (every validated, reviewed certification-sample output, whatever
 * its confidence) and k_j those that λ_j passes and that were rejected, k_j ~ Binomial(n, R(λ_j)), so p_j =
 * P(Binomial(n, A) ≤ k_j) is a valid p-value for H_j: R(λ_j) &gt; A. Testing stops at the first p_j &gt; δ; the last
 * λ_j that passed is certified: P(R(λ) ≤ A) ≥ 1 − δ, i.e. outgoing errors ≤ A per output, equivalently an error rate
 * among passed outputs ≤ α = A / s (s the share λ passes). Because n is the same for every candidate and k_j only
 * grows, p_j only grows: the passing candidates are a prefix of the sequence, the certified threshold is the
 * loosest with k_j ≤ c (c the largest k with P(Binomial(n, A) ≤ k) ≤ δ), and an unlucky candidate cannot stop the
 * sequence early (the earlier form, k out of the n_j samples λ_j passes tested against A / s_j, had p-values that
 * jump up and down along the sequence). Shadow reviews do not correct, so they count as outgoing. The grid comes
 * from unlabelled confidences only, so it does not spend the labels.
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
        if (passedRaw.length == 0) {
            return new Certificate(false, Double.NaN, 0, target, 0, 0, 1, 0,
                    "no validated output in the evidence window yet");
        }
        // Certification sample sorted by raw confidence, with cumulative errors from the top: k_j by search.
        double[][] sample = certification.stream().filter(e -> e.certificationSample() && e.reviewed()
                && e.validationPassed()).map(e -> new double[] { e.rawConfidence(), e.rejected() ? 1 : 0 })
                .sorted((x, y) -> Double.compare(x[0], y[0])).toArray(double[][]::new);
        double[] sampleRaw = new double[sample.length];
        long[] errorsFromTop = new long[sample.length + 1];
        for (int i = sample.length - 1; i >= 0; i--) {
            sampleRaw[i] = sample[i][0];
            errorsFromTop[i] = errorsFromTop[i + 1] + (long) sample[i][1];
        }
        long n = sample.length;
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
            double share = (double) passed / window.size();
            double alpha = Math.min(1.0, target / share);
            long ns = countAtLeast(sampleRaw, lambda);
            long ks = errorsFromTop[sampleRaw.length - (int) ns];
            double p = pValue(ks, n, target);
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
                            "no threshold certified: even the strictest candidate (passing %.0f %% of outputs) lets "
                                    + "through %d errors of %d certification-sample outputs, p = %.3f > δ = %.2f for "
                                    + "outgoing errors of at most %.2f %% per output",
                            100 * (f == null ? 0 : f.passShare()), f == null ? 0 : f.errors(), n,
                            f == null ? 1 : f.pValue(), delta, 100 * target));
        }
        String why = String.format(Locale.ROOT,
                "raw threshold %.4f certified by Learn-then-Test: passes %.1f %% of outputs; it passes %d of the "
                        + "%d certification-sample outputs and %d of them were wrong, p = %.4f <= δ = %.2f for "
                        + "outgoing errors of at most %.2f %% per output (error rate among passed outputs at most "
                        + "%.2f %%)%s",
                best.threshold(), 100 * best.passShare(), best.samples(), n, best.errors(), best.pValue(), delta,
                100 * target, 100 * best.alpha(),
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
