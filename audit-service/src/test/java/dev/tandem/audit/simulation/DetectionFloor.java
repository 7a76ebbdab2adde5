package dev.tandem.audit.simulation;

import java.util.SplittableRandom;

/**
 * The floor of drift-detection delay (issue 18): the delay of the best detector of a doubling of the error odds
 * that sees only what a trusted stream reviews. It knows every reviewed output's exact error probability before the
 * change (p₀, the worker's true curve, not a calibration) and after it (p₁, the odds times R = 2), so its CUSUM sums
 * the exact log-likelihood ratio y·ln(p₁/p₀) + (1 − y)·ln((1 − p₁)/(1 − p₀)) of each review; by Lorden (1971) and
 * Moustakides (1986) no detector with the same false-alarm rate on the same observations has a smaller worst-case
 * delay. Its limit h* is the smallest that keeps it within a false-alarm budget per output (issue 18's goal: 1 per
 * 25,000 stationary outputs), measured on a long stationary run of the same reviews. The audit's detector has to
 * estimate p₀ (a calibration fitted on a few hundred errors, with a margin for its uncertainty) and meet the budget
 * on every family at one h, so it is slower; how much slower, per family, is what this measures.
 *
 * <p>What is reviewed is a trusted stream's pattern frozen at the change ({@link Pattern}): every output under the
 * raw-confidence threshold λ, plus a uniform share a = max(b, f) of the others; the benchmark reads λ and a from each
 * drift run's stream at the change, so the floor is at the family's realised review share. Not reviewed outputs add
 * nothing to the statistic (no information without a label). The delay is counted in outputs from the change; the
 * detector runs {@code warmup} stationary outputs first (its statistic starts where a running CUSUM would be, and a
 * false alarm during them restarts it, as a tightening and a refit would).
 *
 * <p>Also the closed forms (Siegmund's approximations, overshoot ignored): with I₀ = E[r·KL(p₀‖p₁)] and
 * I₁ = E[r·KL(p₁‖p₀)] per output, r the review probability, the mean run length to a false alarm is about
 * (e^h − h − 1)/I₀ and the mean delay (e^(−h) + h − 1)/I₁.
 */
final class DetectionFloor {

    /** R: the odds ratio of the change (issue 18's doubling). */
    static final double ODDS = 2.0;

    private DetectionFloor() {
    }

    /** What a trusted stream reviews: every output under the raw threshold λ, and a uniform share a of the others. */
    record Pattern(double rawThreshold, double sampleRate) {
        boolean reviews(double raw, double u) {
            return raw < rawThreshold || u < sampleRate;
        }

        /** The same pattern with the uniform share raised to at least {@code rate}. */
        Pattern sampledAtLeast(double rate) {
            return new Pattern(rawThreshold, Math.max(sampleRate, rate));
        }
    }

    /** The oracle's log-likelihood ratio of one reviewed output whose error probability before the change is p₀. */
    static double llr(boolean wrong, double p0) {
        double d = 1 - p0 + ODDS * p0; // p₁/p₀ = R/d, (1 − p₁)/(1 − p₀) = 1/d
        return wrong ? Math.log(ODDS / d) : -Math.log(d);
    }

    /** p₀ of an output whose error probability p was drawn with the odds multiplied by {@code factor}. */
    static double baseline(double p, double factor) {
        return factor == 1 ? p : p / (p + factor * (1 - p));
    }

    /** Grid of candidate limits h for {@link #limit}: 1.00, 1.05, ..., 12.00. */
    private static final double H_MIN = 1.0;
    private static final double H_STEP = 0.05;
    private static final int H_COUNT = 221;

    /**
     * h*: the smallest limit (on a 0.05 grid) from which on the oracle CUSUM raises at most {@code alarmsPer25k}
     * false alarms per 25,000 outputs, counted on {@code outputs} stationary outputs of the family under the pattern
     * (restarting at 0 after each alarm). Every candidate runs on the same draws.
     */
    static double limit(SimulatedWorker.Family family, Pattern pattern, double alarmsPer25k, long outputs,
            long seed) {
        SimulatedWorker w = family.worker();
        SplittableRandom rng = new SplittableRandom(seed);
        double[] s = new double[H_COUNT];
        long[] alarms = new long[H_COUNT];
        for (long i = 0; i < outputs; i++) {
            SimulatedWorker.Output o = w.next(rng);
            if (!pattern.reviews(o.raw(), rng.nextDouble())) {
                continue;
            }
            double x = llr(o.wrong(), o.errorProbability());
            for (int k = 0; k < H_COUNT; k++) {
                double v = s[k] + x;
                if (v >= H_MIN + k * H_STEP) {
                    alarms[k]++;
                    v = 0;
                }
                s[k] = v > 0 ? v : 0;
            }
        }
        double allowed = alarmsPer25k * outputs / 25_000.0;
        int k = H_COUNT - 1;
        while (k > 0 && alarms[k - 1] <= allowed) {
            k--;
        }
        return H_MIN + k * H_STEP;
    }

    /**
     * Outputs from the change to the oracle's alarm at limit h, -1 if none within {@code horizon}; the detector
     * first runs {@code warmup} stationary outputs (a false alarm there restarts it).
     */
    static long delay(SimulatedWorker.Family family, Pattern pattern, double h, long seed, int warmup, int horizon) {
        SimulatedWorker w = family.worker();
        SplittableRandom rng = new SplittableRandom(seed);
        double s = 0;
        for (int i = 0; i < warmup; i++) {
            SimulatedWorker.Output o = w.next(rng);
            if (pattern.reviews(o.raw(), rng.nextDouble())) {
                s = Math.max(0, s + llr(o.wrong(), o.errorProbability()));
                if (s >= h) {
                    s = 0;
                }
            }
        }
        w.multiplyErrorOdds(ODDS);
        for (int i = 1; i <= horizon; i++) {
            SimulatedWorker.Output o = w.next(rng);
            if (pattern.reviews(o.raw(), rng.nextDouble())) {
                s = Math.max(0, s + llr(o.wrong(), baseline(o.errorProbability(), ODDS)));
                if (s >= h) {
                    return i;
                }
            }
        }
        return -1;
    }

    /**
     * A drift run's outputs around its change, in order: {@code warmup} stationary ones, then those after the change
     * (raw confidence, outcome, and p₀, the error probability the output would have had without the change).
     */
    static final class Path {
        private final double[] raw;
        private final boolean[] wrong;
        private final double[] p0;
        private final int warmup;
        private int size;

        Path(int warmup, int after) {
            this.warmup = warmup;
            raw = new double[warmup + after];
            wrong = new boolean[warmup + after];
            p0 = new double[warmup + after];
        }

        /** One more output, drawn with the error odds multiplied by {@code factor}; ignored once full. */
        void add(SimulatedWorker.Output o, double factor) {
            if (size < raw.length) {
                raw[size] = o.raw();
                wrong[size] = o.wrong();
                p0[size] = baseline(o.errorProbability(), factor);
                size++;
            }
        }

        boolean full() {
            return size == raw.length;
        }
    }

    /**
     * The oracle on the outputs a drift run actually drew (paired with the audit's delay on the same run): outputs
     * from the change to its alarm at limit h, under the pattern (its uniform share drawn from {@code seed}), after
     * the path's warm-up; -1 if none among the path's outputs after the change.
     */
    static long replay(Path path, Pattern pattern, double h, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double s = 0;
        for (int i = 0; i < path.size; i++) {
            if (!pattern.reviews(path.raw[i], rng.nextDouble())) {
                continue;
            }
            s = Math.max(0, s + llr(path.wrong[i], path.p0[i]));
            if (s >= h) {
                if (i >= path.warmup) {
                    return i - path.warmup + 1;
                }
                s = 0;
            }
        }
        return -1;
    }

    /**
     * {review share, I₀, I₁} per output under the pattern, by Monte Carlo over {@code n} draws of the family: the
     * share of outputs reviewed, and the expected information per output that the reviews carry against the
     * change (I₀ = E[r·KL(p₀‖p₁)], what a false alarm must overcome) and for it (I₁ = E[r·KL(p₁‖p₀)]).
     */
    static double[] information(SimulatedWorker.Family family, Pattern pattern, int n, long seed) {
        SimulatedWorker w = family.worker();
        SplittableRandom rng = new SplittableRandom(seed);
        double share = 0;
        double i0 = 0;
        double i1 = 0;
        for (int i = 0; i < n; i++) {
            SimulatedWorker.Output o = w.next(rng);
            double r = o.raw() < pattern.rawThreshold() ? 1 : pattern.sampleRate();
            double p0 = o.errorProbability();
            double odds = ODDS * p0 / (1 - p0);
            double p1 = odds / (1 + odds);
            share += r;
            i0 += r * kl(p0, p1);
            i1 += r * kl(p1, p0);
        }
        return new double[] { share / n, i0 / n, i1 / n };
    }

    /** KL(Bern(p) ‖ Bern(q)). */
    static double kl(double p, double q) {
        return (p > 0 ? p * Math.log(p / q) : 0) + (p < 1 ? (1 - p) * Math.log((1 - p) / (1 - q)) : 0);
    }

    /** Siegmund's h for a mean run length of {@code arl0} outputs: (e^h − h − 1)/I₀ = ARL₀, by bisection. */
    static double siegmundLimit(double i0, double arl0) {
        double lo = 0;
        double hi = 30;
        for (int i = 0; i < 100; i++) {
            double mid = (lo + hi) / 2;
            if ((Math.exp(mid) - mid - 1) / i0 < arl0) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    /** Siegmund's mean delay at limit h: (e^(−h) + h − 1)/I₁. */
    static double siegmundDelay(double i1, double h) {
        return (Math.exp(-h) + h - 1) / i1;
    }
}
