package dev.tandem.audit.simulation;

import java.util.SplittableRandom;

/**
 * A worker with known error behaviour, for seeded simulations. Each output has a latent difficulty z ~ N(0, 1);
 * its true error probability is p = σ(β₀ + β₁·z), with β₀ solved so that the mean error is the configured rate;
 * the worker reports raw confidence σ(2.5 − 1.2·(z + σₙ·ε)), ε ~ N(0, 1): monotone in a noisy view of the
 * difficulty, uncalibrated, so its AUROC is set by the noise σₙ. A drift multiplies the error odds of every output
 * by a factor while the confidence it reports stays the same (the hardest drift: invisible without labels).
 */
public final class SimulatedWorker {

    /** One output: its raw confidence and whether it is wrong (the oracle's verdict). */
    public record Output(double raw, boolean wrong, double errorProbability) {
    }

    private final double beta0;
    private final double beta1;
    private final double noise;
    private double oddsFactor = 1.0;

    public SimulatedWorker(double errorRate, double beta1, double noise) {
        this.beta1 = beta1;
        this.noise = noise;
        this.beta0 = solveIntercept(errorRate, beta1);
    }

    public void multiplyErrorOdds(double factor) {
        oddsFactor = factor;
    }

    public Output next(SplittableRandom rng) {
        double z = gaussian(rng);
        double eps = gaussian(rng);
        double logit = beta0 + beta1 * z + Math.log(oddsFactor);
        double p = 1 / (1 + Math.exp(-logit));
        boolean wrong = rng.nextDouble() < p;
        double raw = 1 / (1 + Math.exp(-(2.5 - 1.2 * (z + noise * eps))));
        return new Output(raw, wrong, p);
    }

    /** Noise σₙ that gives the requested AUROC (by bisection on a large seeded sample). */
    public static double noiseForAuroc(double errorRate, double beta1, double auroc, long seed) {
        double lo = 0;
        double hi = 4;
        for (int i = 0; i < 30; i++) {
            double mid = (lo + hi) / 2;
            double a = measureAuroc(new SimulatedWorker(errorRate, beta1, mid), 200_000, seed);
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

    private static double solveIntercept(double errorRate, double beta1) {
        // mean of σ(b0 + b1 z) over z ~ N(0,1) by Gauss-Hermite-free quadrature on a fine grid
        double lo = -20;
        double hi = 10;
        for (int i = 0; i < 80; i++) {
            double mid = (lo + hi) / 2;
            if (meanError(mid, beta1) > errorRate) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return (lo + hi) / 2;
    }

    private static double meanError(double b0, double b1) {
        double sum = 0;
        double norm = 0;
        for (double z = -8; z <= 8; z += 0.01) {
            double w = Math.exp(-z * z / 2);
            sum += w / (1 + Math.exp(-(b0 + b1 * z)));
            norm += w;
        }
        return sum / norm;
    }

    private static double gaussian(SplittableRandom rng) {
        // Box-Muller (SplittableRandom has no nextGaussian before JDK 17's RandomGenerator default; this is exact)
        double u1 = rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
