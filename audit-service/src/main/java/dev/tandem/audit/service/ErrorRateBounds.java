package dev.tandem.audit.service;

import org.apache.commons.math3.distribution.BetaDistribution;

/**
 * Credible bounds on an error rate from reviews: with a Beta(a0, b0) prior, {@code r} rejections in {@code n}
 * reviews give the posterior Beta(a0 + r, b0 + n - r). Its upper {@code level} quantile is the error rate shown not
 * to be exceeded; its lower (1 - level) quantile the rate shown to be exceeded. The Jeffreys prior (0.5, 0.5) has
 * close to nominal frequentist coverage; the uniform prior (1, 1) is more conservative (148 instead of 95 clean
 * reviews for a 95 % bound under 2 %).
 */
public final class ErrorRateBounds {

    private ErrorRateBounds() {
    }

    public static double upper(long rejected, long reviewed, double level, double priorAlpha, double priorBeta) {
        return posterior(rejected, reviewed, priorAlpha, priorBeta).inverseCumulativeProbability(level);
    }

    public static double lower(long rejected, long reviewed, double level, double priorAlpha, double priorBeta) {
        return posterior(rejected, reviewed, priorAlpha, priorBeta).inverseCumulativeProbability(1.0 - level);
    }

    /** With fractional counts: prior pseudo-reviews ({@link ClearancePrior}) added to the stream's own. */
    public static double upper(double rejected, double reviewed, double level, double priorAlpha, double priorBeta) {
        if (rejected < 0 || reviewed < rejected) {
            throw new IllegalArgumentException("need 0 <= rejected <= reviewed, got " + rejected + "/" + reviewed);
        }
        return new BetaDistribution(null, priorAlpha + rejected, priorBeta + (reviewed - rejected))
                .inverseCumulativeProbability(level);
    }

    /** Uniform prior. */
    public static double upper(long rejected, long reviewed, double level) {
        return upper(rejected, reviewed, level, 1.0, 1.0);
    }

    /** Uniform prior. */
    public static double lower(long rejected, long reviewed, double level) {
        return lower(rejected, reviewed, level, 1.0, 1.0);
    }

    private static BetaDistribution posterior(long rejected, long reviewed, double a0, double b0) {
        if (rejected < 0 || reviewed < rejected) {
            throw new IllegalArgumentException("need 0 <= rejected <= reviewed, got " + rejected + "/" + reviewed);
        }
        // No random generator: only quantiles are computed, never samples.
        return new BetaDistribution(null, a0 + rejected, b0 + (reviewed - rejected));
    }
}
