package dev.tandem.audit.simulation;

import java.util.SplittableRandom;

/**
 * A worker with known error behaviour, for seeded simulations. Each output has a latent difficulty z, N(0, 1) or
 * (mixed confidence) a skewed two-component mixture: 80 % easy outputs N(−0.5, 0.6²) and 20 % hard ones
 * N(1.5, 0.9²). Its true error probability is, on the logistic curve, p = σ(β₀ + β₁·z), or, on the non-logistic
 * one, p = φ + (0.6 − φ)·Φ(β₀ + β₁·z) with φ = 20 % of the error rate: a floor of confidently wrong outputs, a
 * probit rise and a ceiling, which Platt scaling cannot fit and isotonic regression only fits from many labels.
 * β₀ is solved so that the mean error is the configured rate. The worker reports raw confidence
 * σ(2.5 − 1.2·(z + σₙ·ε)), ε ~ N(0, 1): monotone in a noisy view of the difficulty, uncalibrated, so its AUROC is
 * set by the noise σₙ. A drift multiplies the error odds of every output by a factor while the confidence it
 * reports stays the same (the hardest drift: invisible without labels).
 */
public final class SimulatedWorker {

    /**
     * A family of workers for the benchmark (issue 18): error curve, confidence distribution, error rate, the
     * confidence AUROC aimed at and the noise σₙ that gives it ({@link #noiseForAuroc} with seed 7, solved once and
     * written down: the bisection takes 5 s per family).
     */
    public record Family(String name, boolean logistic, boolean mixed, double errorRate, double auroc, double noise) {
        public SimulatedWorker worker() {
            return new SimulatedWorker(errorRate, 2.0, noise, logistic, mixed);
        }

        @Override
        public String toString() {
            return name;
        }

        public String describe() {
            return String.format(java.util.Locale.ROOT, "%s error curve, %s confidence, %.1f %% errors",
                    logistic ? "logistic" : "non-logistic", mixed ? "mixed (skewed)" : "unimodal", 100 * errorRate);
        }
    }

    /**
     * The benchmark's families: logistic and non-logistic error curves, unimodal and mixed confidence, error rates
     * 0.5–10 %. "base" is issue 5's worker; "external" mimics the stream of issue 18 (skewed mixture, non-logistic
     * curve, 2.5 % errors, AUROC 0.82).
     */
    /** The family of that name (a diagnostic's or a test's argument). */
    public static Family family(String name) {
        return FAMILIES.stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no family " + name));
    }

    public static final java.util.List<Family> FAMILIES = java.util.List.of(
            new Family("base", true, false, 0.02, 0.85, 0.7056),
            new Family("external", false, true, 0.025, 0.82, 1.3923),
            new Family("rare-mixed", true, true, 0.005, 0.85, 1.6567),
            new Family("rare-floor", false, false, 0.005, 0.82, 1.0997),
            new Family("frequent", false, false, 0.05, 0.85, 0.3704),
            new Family("bad-mixed", true, true, 0.10, 0.85, 1.1190));

    /** One output: its raw confidence and whether it is wrong (the oracle's verdict). */
    public record Output(double raw, boolean wrong, double errorProbability) {
    }

    private final double beta0;
    private final double beta1;
    private final double noise;
    private final boolean logistic;
    private final boolean mixed;
    private final double floor;
    private double oddsFactor = 1.0;

    public SimulatedWorker(double errorRate, double beta1, double noise) {
        this(errorRate, beta1, noise, true, false);
    }

    public SimulatedWorker(double errorRate, double beta1, double noise, boolean logistic, boolean mixed) {
        this.beta1 = beta1;
        this.noise = noise;
        this.logistic = logistic;
        this.mixed = mixed;
        this.floor = logistic ? 0 : 0.2 * errorRate;
        this.beta0 = solveIntercept(errorRate);
    }

    public void multiplyErrorOdds(double factor) {
        oddsFactor = factor;
    }

    public Output next(SplittableRandom rng) {
        double z = gaussian(rng);
        if (mixed) {
            // the same draws in either branch, so a family's streams differ only by its parameters
            z = rng.nextDouble() < 0.8 ? -0.5 + 0.6 * z : 1.5 + 0.9 * z;
        }
        double eps = gaussian(rng);
        double p0 = errorProbability(beta0, z);
        double odds = oddsFactor * p0 / (1 - p0);
        double p = odds / (1 + odds);
        boolean wrong = rng.nextDouble() < p;
        double raw = 1 / (1 + Math.exp(-(2.5 - 1.2 * (z + noise * eps))));
        return new Output(raw, wrong, p);
    }

    private double errorProbability(double b0, double z) {
        return logistic ? 1 / (1 + Math.exp(-(b0 + beta1 * z))) : floor + (0.6 - floor) * normalCdf(b0 + beta1 * z);
    }

    /** Noise σₙ that gives the requested AUROC (by bisection on a large seeded sample). */
    public static double noiseForAuroc(double errorRate, double beta1, double auroc, long seed) {
        return noiseForAuroc(new Family("", true, false, errorRate, auroc, Double.NaN), beta1, seed);
    }

    /** σₙ for a family's AUROC (how the constants in {@link #FAMILIES} were solved). */
    public static double noiseForAuroc(Family f, long seed) {
        return noiseForAuroc(f, 2.0, seed);
    }

    private static double noiseForAuroc(Family f, double beta1, long seed) {
        double auroc = f.auroc();
        double lo = 0;
        double hi = 4;
        for (int i = 0; i < 30; i++) {
            double mid = (lo + hi) / 2;
            double a = measureAuroc(new SimulatedWorker(f.errorRate(), beta1, mid, f.logistic(), f.mixed()), 200_000,
                    seed);
            if (a > auroc) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    /** AUROC of raw confidence for telling correct from wrong outputs, by the rank-sum on n outputs. */
    public static double measureAuroc(SimulatedWorker worker, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] raw = new double[n];
        boolean[] wrong = new boolean[n];
        for (int i = 0; i < n; i++) {
            Output o = worker.next(rng);
            raw[i] = o.raw();
            wrong[i] = o.wrong();
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(raw[x], raw[y]));
        double rankSumCorrect = 0;
        long correct = 0;
        for (int r = 0; r < n; r++) {
            if (!wrong[order[r]]) {
                rankSumCorrect += r + 1;
                correct++;
            }
        }
        long errors = n - correct;
        return (rankSumCorrect - correct * (correct + 1) / 2.0) / ((double) correct * errors);
    }

    private double solveIntercept(double errorRate) {
        // mean of p(b0, z) over the difficulty distribution by quadrature on a fine grid
        double lo = -20;
        double hi = 10;
        for (int i = 0; i < 80; i++) {
            double mid = (lo + hi) / 2;
            if (meanError(mid) > errorRate) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return (lo + hi) / 2;
    }

    private double meanError(double b0) {
        double sum = 0;
        double norm = 0;
        for (double z = -8; z <= 8; z += 0.01) {
            double w = mixed ? 0.8 / 0.6 * Math.exp(-sq((z + 0.5) / 0.6) / 2) + 0.2 / 0.9 * Math.exp(-sq((z - 1.5) / 0.9) / 2)
                    : Math.exp(-z * z / 2);
            sum += w * errorProbability(b0, z);
            norm += w;
        }
        return sum / norm;
    }

    private static double sq(double x) {
        return x * x;
    }

    /** Φ by the Abramowitz–Stegun 7.1.26 erf approximation (|error| < 1.5e-7: plenty for a simulated curve). */
    static double normalCdf(double x) {
        double t = 1 / (1 + 0.3275911 * Math.abs(x) / Math.sqrt(2));
        double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592)
                * t * Math.exp(-x * x / 2);
        return x >= 0 ? 0.5 + 0.5 * y : 0.5 - 0.5 * y;
    }

    private static double gaussian(SplittableRandom rng) {
        // Box-Muller (SplittableRandom has no nextGaussian before JDK 17's RandomGenerator default; this is exact)
        double u1 = rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
