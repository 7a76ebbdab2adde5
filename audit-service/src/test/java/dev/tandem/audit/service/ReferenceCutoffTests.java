package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.simulation.SimConfigs;
import dev.tandem.audit.simulation.SimulatedWorker;
import dev.tandem.calibration.CalibrationMap;

/**
 * Whether the cut-off γ̂ is fitted up to is selective (issue 18): on a stationary stream whose calibration is exact,
 * γ̂ should be near 0 while the outcome CUSUM is in an excursion. Fitted on the outputs before the excursion began
 * (the shipped cut-off) it is not: an excursion starts with a rejection and the history before it ends where the
 * CUSUM was last pulled to 0 by accepted reviews, so it holds too few errors; a cut at a fixed lag
 * ({@code drift.reference-lag}) depends on no outcome.
 */
class ReferenceCutoffTests {

    private static final double P = 0.005;
    private static final int REVIEWS = 2_000;
    /**
     * Mean γ̂ over replicate windows of a worker wrong 0.5 % of the time, every output seen by the CUSUM (10 expected
     * errors per window, what a 0.5 % stream's low-confidence and sampled reviews hold), taken at the window's end
     * when the CUSUM, run on the window against the exact calibration, is above 0.
     */
    private static double meanShiftInExcursions(PolicyFitter fitter, int replicates, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        CalibrationMap exact = new CalibrationMap("ISOTONIC", new double[] { 0.0, 1.0 }, new double[] { 0.0, 1.0 },
                100, 0, 0, 0, 0, 30, Instant.EPOCH);
        TrustPolicy trust = new TrustPolicy(SimConfigs.defaults());
        double sum = 0;
        int n = 0;
        for (int r = 0; r < replicates; r++) {
            List<WindowEntry> window = new ArrayList<>(REVIEWS);
            double s = 0;
            long base = 0;
            for (int i = 0; i < REVIEWS; i++) {
                boolean wrong = rng.nextDouble() < P;
                window.add(TrustedOutputs.entry("r" + i, i, new SimulatedWorker.Output(1 - P, wrong, P), 1.0, true));
                s = Math.max(0, s + DriftDetectors.outcomeIncrement(wrong, P, 2.0, 0.002));
                if (s <= 0) {
                    base = i + 1; // as TrustPolicy records it: the excursion begins after the last zero
                }
            }
            if (s <= 0 || base == 0) {
                continue;
            }
            StreamRecord.Builder b = trust.newStream(new StreamKey("b", "t", ""), Instant.EPOCH).toBuilder();
            b.state = TrustState.NORMAL;
            b.windowSinceSeq = 0;
            b.outcomeCusum = s;
            b.cusumBaseSeq = base;
            StreamRecord stream = b.build();
            sum += fitter.referenceShift(window, exact, fitter.referenceCutoff(stream, window))[1];
            n++;
        }
        assertThat(n).as("replicates ending in an excursion").isGreaterThan(replicates / 4);
        return sum / n;
    }

    @Test
    void theExcursionCutOffReadsTooFewErrorsAFixedLagDoesNot() {
        double shipped = meanShiftInExcursions(new PolicyFitter(SimConfigs.defaults()), 1_500, 21);
        double lagged = meanShiftInExcursions(
                new PolicyFitter(SimConfigs.with(Map.of("tandem.audit.drift.reference-lag", "200"))), 1_500, 21);
        // the estimator alone (posterior mode of a log-odds on ~9 errors, N(0, 1) prior) is nearly unbiased here
        assertThat(lagged).as("a cut at a fixed lag (shipped cut-off: %.3f)", shipped).isBetween(-0.1, 0.1);
        assertThat(shipped).as("the cut where the excursion began").isLessThan(-0.2);
    }
}
