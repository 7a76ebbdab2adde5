package dev.tandem.calibration;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

/**
 * Fits a stream's calibration (raw confidence to the probability of a correct output) from its reviewed outputs,
 * each weighted by 1 / the probability it was selected for review, so that the oversampled low-confidence outputs
 * do not bias the map (an inverse-probability-weighted fit of the whole stream).
 *
 * <p>Two methods, both weighted: isotonic regression by pool-adjacent-violators (knots at each block's weighted
 * mean raw confidence), and Platt scaling σ(a·logit(raw) + b) by Newton's method (knots along the observed range).
 * A share of the outputs chosen by the caller (the audit service draws it deterministically from the decision id) is
 * held out: both methods are fitted on the rest and the one
 * with the lower held-out Brier score wins; the published map is the winner refitted on every output, and the
 * reported ECE and Brier (raw and calibrated) are those of the held-out part. ECE = Σ_b (W_b/W)·|acc_b − conf_b|
 * over equal-width bins of predicted confidence; Brier = Σ w·(c − y)² / Σ w. Hand-written: no maintained Java
 * library does weighted isotonic regression with these outputs, and both fits are a few dozen lines.
 */
public final class Calibrator {

    private Calibrator() {
    }

    /** A reviewed output: raw confidence, whether it was correct, its IPW weight, its id (for the split). */
    public record Sample(String id, double raw, boolean correct, double weight) {
    }

    /**
     * The stream's map fitted on its reviewed outputs; null when there are fewer than {@code minSamples} samples or
     * fewer than 10 held out or left to train on.
     *
     * @param heldOut which samples are held out to choose the method and measure ECE and Brier
     * @param bins equal-width bins of the ECE
     */
    public static CalibrationMap fit(List<Sample> samples, int minSamples, Predicate<Sample> heldOut, int bins,
            Instant now) {
        if (samples.size() < minSamples) {
            return null;
        }
        List<Sample> train = new ArrayList<>();
        List<Sample> test = new ArrayList<>();
        for (Sample s : samples) {
            (heldOut.test(s) ? test : train).add(s);
        }
        if (test.size() < 10 || train.size() < 10) {
            return null;
        }
        double[][] iso = isotonic(train);
        double[][] platt = platt(train);
        double brierIso = brier(test, iso);
        double brierPlatt = platt == null ? Double.POSITIVE_INFINITY : brier(test, platt);
        boolean useIsotonic = brierIso <= brierPlatt;
        double[][] chosen = useIsotonic ? iso : platt;
        double[][] published = useIsotonic ? isotonic(samples) : platt(samples);
        if (published == null) {
            published = chosen;
        }
        return new CalibrationMap(useIsotonic ? "ISOTONIC" : "PLATT", published[0], published[1], samples.size(),
                ece(test, null, bins), ece(test, chosen, bins), brier(test, null),
                useIsotonic ? brierIso : brierPlatt, test.size(), now);
    }

    /** Weighted pool-adjacent-violators; returns {knot raw, knot calibrated}. */
    static double[][] isotonic(List<Sample> samples) {
        List<Sample> sorted = new ArrayList<>(samples);
        sorted.sort(Comparator.comparingDouble(Sample::raw));
        // blocks: sum w, sum w*y, sum w*x
        double[] w = new double[sorted.size()];
        double[] wy = new double[sorted.size()];
        double[] wx = new double[sorted.size()];
        int top = -1;
        double lastX = Double.NaN;
        for (Sample s : sorted) {
            double sw = Math.max(s.weight(), 1e-12);
            if (top >= 0 && s.raw() == lastX) {
                w[top] += sw;
                wy[top] += sw * (s.correct() ? 1 : 0);
                wx[top] += sw * s.raw();
            } else {
                top++;
                w[top] = sw;
                wy[top] = sw * (s.correct() ? 1 : 0);
                wx[top] = sw * s.raw();
            }
            lastX = s.raw();
            while (top > 0 && wy[top - 1] / w[top - 1] >= wy[top] / w[top]) {
                w[top - 1] += w[top];
                wy[top - 1] += wy[top];
                wx[top - 1] += wx[top];
                top--;
            }
        }
        double[] knots = new double[top + 1];
        double[] values = new double[top + 1];
        for (int i = 0; i <= top; i++) {
            knots[i] = wx[i] / w[i];
            values[i] = wy[i] / w[i];
        }
        return new double[][] { knots, values };
    }

    /** Weighted Platt scaling on logit(raw); null when the fit is not increasing. */
    static double[][] platt(List<Sample> samples) {
        double a = 1;
        double b = 0;
        for (int iter = 0; iter < 50; iter++) {
            double ga = 0, gb = 0, haa = 1e-6, hab = 0, hbb = 1e-6;
            for (Sample s : samples) {
                double z = logit(s.raw());
                double p = sigmoid(a * z + b);
                double y = s.correct() ? 1 : 0;
                double sw = s.weight();
                ga += sw * (p - y) * z;
                gb += sw * (p - y);
                double v = sw * p * (1 - p);
                haa += v * z * z;
                hab += v * z;
                hbb += v;
            }
            double det = haa * hbb - hab * hab;
            if (!(Math.abs(det) > 1e-18)) {
                break;
            }
            double da = (hbb * ga - hab * gb) / det;
            double db = (haa * gb - hab * ga) / det;
            a -= da;
            b -= db;
            if (Math.abs(da) + Math.abs(db) < 1e-9) {
                break;
            }
        }
        if (!(a > 0) || !Double.isFinite(b)) {
            return null;
        }
        double lo = samples.stream().mapToDouble(Sample::raw).min().orElse(0);
        double hi = samples.stream().mapToDouble(Sample::raw).max().orElse(1);
        if (!(hi > lo)) {
            return null;
        }
        int k = 41;
        double[] knots = new double[k];
        double[] values = new double[k];
        for (int i = 0; i < k; i++) {
            knots[i] = lo + (hi - lo) * i / (k - 1);
            values[i] = sigmoid(a * logit(knots[i]) + b);
        }
        return new double[][] { knots, values };
    }

    /** Weighted Brier score of the map (null: raw confidence itself). */
    public static double brier(List<Sample> samples, double[][] map) {
        double sw = 0, se = 0;
        for (Sample s : samples) {
            double c = predict(map, s.raw());
            double y = s.correct() ? 1 : 0;
            se += s.weight() * (c - y) * (c - y);
            sw += s.weight();
        }
        return sw == 0 ? 0 : se / sw;
    }

    /** Weighted expected calibration error over equal-width bins of predicted confidence. */
    public static double ece(List<Sample> samples, double[][] map, int bins) {
        double[] w = new double[bins];
        double[] acc = new double[bins];
        double[] conf = new double[bins];
        double total = 0;
        for (Sample s : samples) {
            double c = predict(map, s.raw());
            int b = Math.min(bins - 1, (int) Math.floor(c * bins));
            w[b] += s.weight();
            acc[b] += s.weight() * (s.correct() ? 1 : 0);
            conf[b] += s.weight() * c;
            total += s.weight();
        }
        double ece = 0;
        for (int b = 0; b < bins; b++) {
            if (w[b] > 0) {
                ece += (w[b] / total) * Math.abs(acc[b] / w[b] - conf[b] / w[b]);
            }
        }
        return ece;
    }

    static double predict(double[][] map, double raw) {
        return map == null ? raw : CalibrationMap.interpolate(map[0], map[1], raw);
    }

    private static double logit(double p) {
        double q = Math.min(1 - 1e-6, Math.max(1e-6, p));
        return Math.log(q / (1 - q));
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }
}
