package dev.tandem.calibration;

import java.time.Instant;
import java.util.Arrays;

/**
 * A stream's calibration: raw confidence to the probability that the output is correct, monotone piecewise-linear
 * through the knots and flat outside them (the meaning of {@code tandem.audit.v1.Calibration}). The audit service
 * fits it ({@link Calibrator}) and publishes it on {@code StreamStatus.calibration}; the router applies that map to
 * every output it dispatches, so a raw confidence gets one calibrated value everywhere.
 *
 * @param method ISOTONIC or PLATT
 * @param raw knot positions, ascending
 * @param calibrated knot values, non-decreasing, in [0, 1]
 * @param samples reviewed outputs the map was fitted on
 * @param eceRaw expected calibration error of raw confidence on the held-out verdicts (weighted)
 * @param referenceLogOdds the audit's outcome CUSUM reference shift γ (issue 18), fitted by the audit service against
 *        this map on the same window and stored with it: its H₀ error probability of an output is
 *        σ(logit(1 − c(raw)) + γ); 0 where nobody fitted it (maps stored before it existed, the router's copies)
 * @param estimatedLogOdds γ̂ alone, the shift the window's outcomes show without the margin (the H₀ of the SPRT that
 *        confirms an outcome alarm); 0 where nobody fitted it
 * @param historyEdges raw-confidence edges of the bins of {@code historyLogOdds}, ascending (bin k holds raw
 *        confidence under edge k, the last bin everything above); null where nobody fitted them
 * @param historyLogOdds per bin of raw confidence, the log-odds shift against this map that the stream's own reviewed
 *        outputs showed before the outcome CUSUM's excursion (the audit's {@code own-history} confirmation H₀,
 *        issue 18); null where nobody fitted them
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
        double estimatedLogOdds,
        double[] historyEdges,
        double[] historyLogOdds) {

    public CalibrationMap(String method, double[] raw, double[] calibrated, long samples, double eceRaw,
            double eceCalibrated, double brierRaw, double brierCalibrated, long heldOut, Instant fittedAt) {
        this(method, raw, calibrated, samples, eceRaw, eceCalibrated, brierRaw, brierCalibrated, heldOut, fittedAt, 0,
                0);
    }

    public CalibrationMap(String method, double[] raw, double[] calibrated, long samples, double eceRaw,
            double eceCalibrated, double brierRaw, double brierCalibrated, long heldOut, Instant fittedAt,
            double referenceLogOdds, double estimatedLogOdds) {
        this(method, raw, calibrated, samples, eceRaw, eceCalibrated, brierRaw, brierCalibrated, heldOut, fittedAt,
                referenceLogOdds, estimatedLogOdds, null, null);
    }

    public CalibrationMap {
        if (raw.length != calibrated.length || raw.length == 0) {
            throw new IllegalArgumentException("a calibration needs as many values as knots, at least one");
        }
        for (int i = 1; i < raw.length; i++) {
            if (!(raw[i] >= raw[i - 1])) {
                throw new IllegalArgumentException("calibration knots must ascend in raw confidence");
            }
        }
        if ((historyEdges == null) != (historyLogOdds == null)
                || (historyEdges != null && historyLogOdds.length != historyEdges.length + 1)) {
            throw new IllegalArgumentException("per-bin shifts need one more value than bin edges");
        }
    }

    /** The same map with the outcome CUSUM's reference shift γ (and γ̂ = γ: no margin). */
    public CalibrationMap withReferenceLogOdds(double gamma) {
        return withReferenceShift(gamma, gamma);
    }

    /** The same map with the CUSUM's reference shift γ = γ̂ + z·se and the estimate γ̂ the SPRT tests against. */
    public CalibrationMap withReferenceShift(double gamma, double estimate) {
        return new CalibrationMap(method, raw, calibrated, samples, eceRaw, eceCalibrated, brierRaw, brierCalibrated,
                heldOut, fittedAt, gamma, estimate, historyEdges, historyLogOdds);
    }

    /** The same map with per-bin shifts of the stream's own history ({@code edges} ascending, one shift more). */
    public CalibrationMap withHistoryShifts(double[] edges, double[] shifts) {
        return new CalibrationMap(method, raw, calibrated, samples, eceRaw, eceCalibrated, brierRaw, brierCalibrated,
                heldOut, fittedAt, referenceLogOdds, estimatedLogOdds, edges, shifts);
    }

    /** Whether per-bin shifts of the stream's own history were fitted with this map. */
    public boolean hasHistoryShifts() {
        return historyEdges != null;
    }

    /** The shift of the history bin that raw confidence x falls in; γ̂ when no bins were fitted. */
    public double historyLogOdds(double x) {
        if (historyEdges == null) {
            return estimatedLogOdds;
        }
        int k = 0;
        while (k < historyEdges.length && x >= historyEdges[k]) {
            k++;
        }
        return historyLogOdds[k];
    }

    /**
     * The calibrated value of raw confidence x: linear between the two knots around it, the first knot's value
     * below the first knot and the last one's above the last (at a repeated knot, the upper value).
     */
    public double apply(double x) {
        return interpolate(raw, calibrated, x);
    }

    /** Calibrated value of x, or x itself when there is no map. */
    public static double apply(CalibrationMap map, double x) {
        return map == null ? x : map.apply(x);
    }

    /** Monotone piecewise-linear interpolation through (knots[i], values[i]), flat outside; knots ascending. */
    static double interpolate(double[] knots, double[] values, double x) {
        if (x <= knots[0]) {
            return values[0];
        }
        int last = knots.length - 1;
        if (x >= knots[last]) {
            return values[last];
        }
        int i = Arrays.binarySearch(knots, x);
        if (i >= 0) {
            while (i < last && knots[i + 1] == x) {
                i++;
            }
            return values[i];
        }
        int hi = -i - 1;
        int lo = hi - 1;
        double span = knots[hi] - knots[lo];
        if (!(span > 0)) {
            return values[hi];
        }
        double t = (x - knots[lo]) / span;
        return values[lo] + t * (values[hi] - values[lo]);
    }
}
