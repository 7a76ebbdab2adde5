package dev.tandem.audit.service;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import dev.tandem.audit.CalibrationMap;

/**
 * Fits a stream's calibration (raw confidence to the probability of a correct output) from its reviewed outputs,
 * each weighted by 1 / the probability it was selected for review, so that the oversampled low-confidence outputs
 * do not bias the map (an inverse-probability-weighted fit of the whole stream).
 *
 * <p>Two methods, both weighted: isotonic regression by pool-adjacent-violators (knots at each block's weighted
 * mean raw confidence), and Platt scaling σ(a·logit(raw) + b) by Newton's method (knots along the observed range).
 * A deterministic share of the outputs (by decision id) is held out: both methods are fitted on the rest and the one
 * with the lower held-out Brier score wins; the published map is the winner refitted on every output, and the
 * reported ECE and Brier (raw and calibrated) are those of the held-out part. ECE = Σ_b (W_b/W)·|acc_b − conf_b|
 * over equal-width bins of predicted confidence; Brier = Σ w·(c − y)² / Σ w. Hand-written: no maintained Java
 * library does weighted isotonic regression with these outputs, and both fits are a few dozen lines.
 */
public final class Calibrator {

    private static final String HOLDOUT_SEED = "tandem-calibration-holdout";

    private Calibrator() {
    }

    /** A reviewed output: raw confidence, whether it was correct, its IPW weight, its id (for the split). */
    public record Sample(String id, double raw, boolean correct, double weight) {
    }

    /** Null when there are fewer than {@code minSamples} samples or too few held out to measure. */
    public static CalibrationMap fit(List<Sample> samples, int minSamples, double holdoutShare, int bins,
            Instant now) {
        if (samples.size() < minSamples) {
            return null;
        }
        List<Sample> train = new ArrayList<>();
        List<Sample> heldOut = new ArrayList<>();
        for (Sample s : samples) {
            (SamplingDraw.uniform(HOLDOUT_SEED, s.id()) < holdoutShare ? heldOut : train).add(s);
        }
        if (heldOut.size() < 10 || train.size() < 10) {
            return null;
        }
        double[][] iso = isotonic(train);
        double[][] platt = platt(train);
        double brierIso = brier(heldOut, iso);
        double brierPlatt = platt == null ? Double.POSITIVE_INFINITY : brier(heldOut, platt);
        boolean useIsotonic = brierIso <= brierPlatt;
        double[][] chosen = useIsotonic ? iso : platt;
        double[][] published = useIsotonic ? isotonic(samples) : platt(samples);
        if (published == null) {
            published = chosen;
        }
        return new CalibrationMap(useIsotonic ? "ISOTONIC" : "PLATT", published[0], published[1], samples.size(),
                ece(heldOut, null, bins), ece(heldOut, chosen, bins), brier(heldOut, null),
                useIsotonic ? brierIso : brierPlatt, heldOut.size(), now);
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
        if (map == null) {
            return raw;
        }
        double[] x = map[0];
        double[] y = map[1];
        if (raw <= x[0]) {
            return y[0];
        }
        if (raw >= x[x.length - 1]) {
            return y[y.length - 1];
        }
        int i = Arrays.binarySearch(x, raw);
        if (i >= 0) {
            return y[i];
        }
        int hi = -i - 1;
        double t = (raw - x[hi - 1]) / (x[hi] - x[hi - 1]);
        return y[hi - 1] + t * (y[hi] - y[hi - 1]);
    }

    private static double logit(double p) {
        double q = Math.min(1 - 1e-6, Math.max(1e-6, p));
        return Math.log(q / (1 - q));
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }
}
