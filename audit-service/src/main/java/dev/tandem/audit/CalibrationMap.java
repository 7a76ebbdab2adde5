package dev.tandem.audit;

import java.time.Instant;
import java.util.Arrays;

/**
 * A stream's calibration: raw confidence to the probability that the output is correct, monotone piecewise-linear
 * through the knots and flat outside them (the meaning of {@code tandem.audit.v1.Calibration}).
 *
 * @param method ISOTONIC or PLATT
 * @param raw knot positions, strictly ascending
 * @param calibrated knot values, non-decreasing, in [0, 1]
 * @param samples reviewed outputs the map was fitted on
 * @param eceRaw expected calibration error of raw confidence on the held-out verdicts (weighted)
 * @param referenceLogOdds the outcome CUSUM's reference shift γ (issue 18): its H₀ error probability of an output
 *        is σ(logit(1 − c(raw)) + γ), γ = γ̂ + z·se from the window's audited outcomes against this map
 *        ({@code PolicyFitter}); 0 in maps stored before it existed
 * @param estimatedLogOdds γ̂ alone, the shift the window's outcomes show without the margin: the H₀ of the SPRT that
 *        confirms an outcome alarm (a one-off test takes the best estimate; the margin is there to keep the
 *        continuously running CUSUM from drifting into false alarms); 0 in maps stored before it existed
 */
public record CalibrationMap(
        String method,
        double[] raw,
        double[] calibrated,
        long samples,
        double eceRaw,
        double eceCalibrated,
        double brierRaw,
        double brierCalibrated,
        long heldOut,
        Instant fittedAt,
        double referenceLogOdds,
        double estimatedLogOdds) {

    public CalibrationMap(String method, double[] raw, double[] calibrated, long samples, double eceRaw,
            double eceCalibrated, double brierRaw, double brierCalibrated, long heldOut, Instant fittedAt) {
        this(method, raw, calibrated, samples, eceRaw, eceCalibrated, brierRaw, brierCalibrated, heldOut, fittedAt, 0,
                0);
    }

    /** The same map with the outcome CUSUM's reference shift γ (and γ̂ = γ: no margin). */
    public CalibrationMap withReferenceLogOdds(double gamma) {
        return withReferenceShift(gamma, gamma);
    }

    /** The same map with the CUSUM's reference shift γ = γ̂ + z·se and the estimate γ̂ the SPRT tests against. */
    public CalibrationMap withReferenceShift(double gamma, double estimate) {
        return new CalibrationMap(method, raw, calibrated, samples, eceRaw, eceCalibrated, brierRaw, brierCalibrated,
                heldOut, fittedAt, gamma, estimate);
    }

    public CalibrationMap {
        if (raw.length != calibrated.length || raw.length == 0) {
            throw new IllegalArgumentException("a calibration needs as many values as knots, at least one");
        }
    }

    public double apply(double x) {
        if (x <= raw[0]) {
            return calibrated[0];
        }
        int last = raw.length - 1;
        if (x >= raw[last]) {
            return calibrated[last];
        }
        int i = Arrays.binarySearch(raw, x);
        if (i >= 0) {
            return calibrated[i];
        }
        int hi = -i - 1;
        int lo = hi - 1;
        double t = (x - raw[lo]) / (raw[hi] - raw[lo]);
        return calibrated[lo] + t * (calibrated[hi] - calibrated[lo]);
    }

    /** Calibrated value of x, or x itself when there is no map. */
    public static double apply(CalibrationMap map, double x) {
        return map == null ? x : map.apply(x);
    }
}
