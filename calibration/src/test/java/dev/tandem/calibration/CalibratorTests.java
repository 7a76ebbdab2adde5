package dev.tandem.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The fit: weighted pool-adjacent-violators or Platt, chosen on a held-out split; ECE and Brier. */
class CalibratorTests {

    /**
     * An overconfident worker, seeded: latent difficulty z ~ N(0, 1), error probability σ(−1.5 + 2z), raw confidence
     * σ(2.5 − 1.2·(z + 0.5ε)) (monotone in a noisy view of z, not calibrated). Low confidence is oversampled as the
     * audit policy does: every output under 0.8 is reviewed, 10 % of the rest, each weighted by 1 / that share.
     */
    private static List<Calibrator.Sample> reviewedOutputs(int count, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Calibrator.Sample> samples = new ArrayList<>();
        int id = 0;
        while (samples.size() < count) {
            double z = gaussian(rng);
            boolean wrong = rng.nextDouble() < sigmoid(-1.5 + 2 * z);
            double raw = sigmoid(2.5 - 1.2 * (z + 0.5 * gaussian(rng)));
            double pi = raw < 0.8 ? 1.0 : 0.1;
            if (rng.nextDouble() < pi) {
                samples.add(new Calibrator.Sample("s" + id, raw, !wrong, 1 / pi));
            }
            id++;
        }
        return samples;
    }

    @Test
    void weightedCalibrationLowersEceOnAHeldOutSplit() {
        List<Calibrator.Sample> samples = reviewedOutputs(3000, 5);
        CalibrationMap map = Calibrator.fit(samples, 50, s -> Math.floorMod(s.id().hashCode(), 10) < 3, 10,
                Instant.EPOCH);
        assertThat(map).isNotNull();
        assertThat(map.samples()).isEqualTo(3000);
        assertThat(map.heldOut()).isBetween(700L, 1100L);
        assertThat(map.eceCalibrated()).isLessThan(map.eceRaw() / 2);
        assertThat(map.brierCalibrated()).isLessThan(map.brierRaw());
        for (int i = 1; i < map.raw().length; i++) {
            assertThat(map.raw()[i]).isGreaterThan(map.raw()[i - 1]);
            assertThat(map.calibrated()[i]).isGreaterThanOrEqualTo(map.calibrated()[i - 1]);
        }
        assertThat(map.apply(-1)).isEqualTo(map.calibrated()[0]);
        assertThat(map.apply(2)).isEqualTo(map.calibrated()[map.calibrated().length - 1]);
    }

    @Test
    void tooFewSamplesOrTooFewHeldOutFitNothing() {
        List<Calibrator.Sample> samples = reviewedOutputs(200, 6);
        assertThat(Calibrator.fit(samples, 201, s -> true, 10, Instant.EPOCH)).isNull();
        assertThat(Calibrator.fit(samples, 50, s -> false, 10, Instant.EPOCH)).isNull();
        assertThat(Calibrator.fit(samples, 50, s -> true, 10, Instant.EPOCH)).isNull();
    }

    @Test
    void poolAdjacentViolatorsAveragesEachViolatingBlockByWeight() {
        // raw 0.2 correct, 0.4 wrong (weight 3), 0.6 correct: the first two pool to (0.35, 0.25), then 0.6 stays
        List<Calibrator.Sample> samples = List.of(new Calibrator.Sample("a", 0.2, true, 1),
                new Calibrator.Sample("b", 0.4, false, 3), new Calibrator.Sample("c", 0.6, true, 1));
        double[][] knots = Calibrator.isotonic(samples);
        assertThat(knots[0]).containsExactly(new double[] {(0.2 + 3 * 0.4) / 4, 0.6}, within(1e-12));
        assertThat(knots[1]).containsExactly(new double[] {0.25, 1.0}, within(1e-12));
    }

    @Test
    void brierAndEceOfAPerfectlyCalibratedConstantAreItsVarianceAndZero() {
        List<Calibrator.Sample> samples = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            samples.add(new Calibrator.Sample("s" + i, 0.7, i < 7, 1));
        }
        assertThat(Calibrator.brier(samples, null)).isCloseTo(0.7 * 0.3, within(1e-12));
        assertThat(Calibrator.ece(samples, null, 10)).isCloseTo(0, within(1e-12));
    }

    private static double gaussian(SplittableRandom rng) {
        double u = 1 - rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }
}
