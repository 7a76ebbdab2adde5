package dev.tandem.audit.simulation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The floor that docs/benchmarks.md (issue 18) reports beside the audit's drift delays: if the oracle's statistic,
 * its limit or its delay were wrong, the floor would say which goals are reachable on wrong numbers. Seeds 7200+:
 * neither the benchmark's tuning nor its held-out seeds.
 */
class DetectionFloorTests {

    private static final SimulatedWorker.Family BASE = SimulatedWorker.FAMILIES.get(0);

    /** E[llr] is +KL(p₁‖p₀) after the change and −KL(p₀‖p₁) before it: the exact log-likelihood ratio. */
    @Test
    void theOraclesIncrementIsTheExactLogLikelihoodRatio() {
        for (double p0 : new double[] { 0.002, 0.02, 0.3 }) {
            double p1 = DetectionFloor.ODDS * p0 / (1 - p0 + DetectionFloor.ODDS * p0);
            double after = p1 * DetectionFloor.llr(true, p0) + (1 - p1) * DetectionFloor.llr(false, p0);
            double before = p0 * DetectionFloor.llr(true, p0) + (1 - p0) * DetectionFloor.llr(false, p0);
            assertThat(after).isCloseTo(DetectionFloor.kl(p1, p0), within(1e-12));
            assertThat(before).isCloseTo(-DetectionFloor.kl(p0, p1), within(1e-12));
            assertThat(DetectionFloor.baseline(p1, DetectionFloor.ODDS)).isCloseTo(p0, within(1e-12));
        }
    }

    /**
     * h* keeps the budget on fresh draws (within the noise of ~40 expected alarms), Siegmund's h for the same budget
     * is close to it, and the simulated mean delay at h* is Siegmund's within 25 %: the closed form and the
     * simulation of the floor agree.
     */
    @Test
    void theLimitKeepsTheBudgetAndTheDelayAgreesWithSiegmund() {
        DetectionFloor.Pattern pattern = new DetectionFloor.Pattern(0.62, 0.1);
        double h = DetectionFloor.limit(BASE, pattern, 1.0, 1_000_000, 7_200);
        assertThat(h).isBetween(2.0, 8.0);

        SimulatedWorker w = BASE.worker();
        SplittableRandom rng = new SplittableRandom(7_201);
        double s = 0;
        int alarms = 0;
        int n = 1_000_000;
        for (int i = 0; i < n; i++) {
            SimulatedWorker.Output o = w.next(rng);
            if (pattern.reviews(o.raw(), rng.nextDouble())) {
                s = Math.max(0, s + DetectionFloor.llr(o.wrong(), o.errorProbability()));
                if (s >= h) {
                    alarms++;
                    s = 0;
                }
            }
        }
        assertThat(25_000.0 * alarms / n).as("false alarms per 25,000 at h* = %.2f", h).isLessThanOrEqualTo(1.5);

        double[] info = DetectionFloor.information(BASE, pattern, 200_000, 7_202);
        assertThat(info[0]).as("review share").isBetween(0.1, 0.3);
        assertThat(DetectionFloor.siegmundLimit(info[1], 25_000)).isCloseTo(h, within(1.0));
        long[] delays = new long[200];
        for (int k = 0; k < delays.length; k++) {
            delays[k] = DetectionFloor.delay(BASE, pattern, h, 7_300 + k, 0, 100_000);
        }
        assertThat(delays).doesNotContain(-1);
        double mean = Arrays.stream(delays).average().orElseThrow();
        assertThat(mean).isCloseTo(DetectionFloor.siegmundDelay(info[2], h),
                within(0.25 * DetectionFloor.siegmundDelay(info[2], h)));
    }

    /** More reviews carry more information: the floor at a higher uniform share is faster on the same seeds. */
    @Test
    void aHigherReviewShareLowersTheFloor() {
        DetectionFloor.Pattern realised = new DetectionFloor.Pattern(0.62, 0.02);
        DetectionFloor.Pattern raised = realised.sampledAtLeast(0.5);
        double hLow = DetectionFloor.limit(BASE, realised, 1.0, 500_000, 7_210);
        double hHigh = DetectionFloor.limit(BASE, raised, 1.0, 500_000, 7_210);
        long sumLow = 0;
        long sumHigh = 0;
        for (int k = 0; k < 100; k++) {
            sumLow += DetectionFloor.delay(BASE, realised, hLow, 7_400 + k, 0, 100_000);
            sumHigh += DetectionFloor.delay(BASE, raised, hHigh, 7_400 + k, 0, 100_000);
        }
        assertThat(sumHigh).isLessThan(sumLow * 3 / 4);
    }

    /** The replay on recorded outputs finds the same alarm as the oracle run live on those outputs. */
    @Test
    void theReplayOnARunsOutputsIsTheOracleOnThem() {
        DetectionFloor.Pattern everything = new DetectionFloor.Pattern(1.01, 1.0);
        SimulatedWorker w = BASE.worker();
        SplittableRandom rng = new SplittableRandom(7_220);
        DetectionFloor.Path path = new DetectionFloor.Path(1_000, 5_000);
        for (int i = 0; i < 1_000; i++) {
            path.add(w.next(rng), 1);
        }
        w.multiplyErrorOdds(DetectionFloor.ODDS);
        double s = 0;
        long live = -1;
        SplittableRandom replayed = new SplittableRandom(7_220);
        SimulatedWorker again = BASE.worker();
        for (int i = 0; i < 1_000; i++) {
            SimulatedWorker.Output o = again.next(replayed);
            s = Math.max(0, s + DetectionFloor.llr(o.wrong(), o.errorProbability()));
            if (s >= 3) {
                s = 0;
            }
        }
        for (int i = 1; i <= 5_000; i++) {
            SimulatedWorker.Output o = w.next(rng);
            path.add(o, DetectionFloor.ODDS);
            s = Math.max(0, s + DetectionFloor.llr(o.wrong(), DetectionFloor.baseline(o.errorProbability(),
                    DetectionFloor.ODDS)));
            if (live < 0 && s >= 3) {
                live = i;
            }
        }
        assertThat(path.full()).isTrue();
        assertThat(live).isPositive();
        assertThat(DetectionFloor.replay(path, everything, 3, 1)).isEqualTo(live);
    }
}
