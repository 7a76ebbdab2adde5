package dev.tandem.audit.service;

import org.apache.commons.math3.distribution.GammaDistribution;

/**
 * An inverse-probability-weighted rate with its interval: estimate = Σ w_i·y_i / N over the observed outputs, and
 * the Fay–Feuer gamma interval for a weighted sum of rare events (Fay &amp; Feuer, Stat. Med. 1997), which stays
 * valid with zero or few observed errors where a normal interval collapses: with T = Σ w·y, V = Σ w²·y and w_M the
 * largest weight an observation could have had, lower = G⁻¹(α/2; T²/V, V/T), upper = G⁻¹(1 − α/2; (T + w_M)²/(V +
 * w_M²), (V + w_M²)/(T + w_M)), both divided by N.
 */
public record WeightedRate(double estimate, double lower, double upper, double weightedErrors, long outputs) {

    public static WeightedRate of(double sumWeightedErrors, double sumSquaredWeights, double maxWeight, long outputs,
            double level) {
        if (outputs <= 0) {
            return new WeightedRate(0, 0, 1, 0, 0);
        }
        double alpha = 1 - level;
        double t = sumWeightedErrors;
        double v = sumSquaredWeights;
        double wm = Math.max(maxWeight, 1.0);
        double lower = t <= 0 ? 0 : new GammaDistribution(null, t * t / v, v / t).inverseCumulativeProbability(alpha / 2);
        double upper = new GammaDistribution(null, (t + wm) * (t + wm) / (v + wm * wm), (v + wm * wm) / (t + wm))
                .inverseCumulativeProbability(1 - alpha / 2);
        return new WeightedRate(t / outputs, Math.min(1, lower / outputs), Math.min(1, upper / outputs), t, outputs);
    }
}
