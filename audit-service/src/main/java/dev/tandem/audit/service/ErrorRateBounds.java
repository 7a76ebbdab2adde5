package dev.tandem.audit.service;

import org.apache.commons.math3.distribution.BetaDistribution;

/**
 * Credible bounds on a stream's error rate from its reviews: with a uniform prior, {@code r} rejections in
 * {@code n} reviews give the posterior Beta(1 + r, 1 + n - r). Its upper {@code level} quantile is the error rate
 * the stream is shown not to exceed; its lower (1 - level) quantile the rate it is shown to exceed.
 */
public final class ErrorRateBounds {

    private ErrorRateBounds() {
    }

    public static double upper(long rejected, long reviewed, double level) {
        return posterior(rejected, reviewed).inverseCumulativeProbability(level);
    }

    public static double lower(long rejected, long reviewed, double level) {
        return posterior(rejected, reviewed).inverseCumulativeProbability(1.0 - level);
    }

    private static BetaDistribution posterior(long rejected, long reviewed) {
        if (rejected < 0 || reviewed < rejected) {
            throw new IllegalArgumentException("need 0 <= rejected <= reviewed, got " + rejected + "/" + reviewed);
        }
        // No random generator: only quantiles are computed, never samples.
        return new BetaDistribution(null, 1.0 + rejected, 1.0 + (reviewed - rejected));
    }
}
