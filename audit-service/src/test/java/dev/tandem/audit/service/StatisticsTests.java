package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.simulation.SimulatedWorker;

/** Seeded Monte Carlo checks of the estimators and tests the policy rests on. */
class StatisticsTests {

    @Test
    void learnThenTestHoldsTheErrorAmongPassedOutputsUnderAlphaWithProbabilityOneMinusDelta() {
        // 2 % worker, AUROC about 0.85; 400 certification samples per trial; target A = 1 %, δ = 0.1.
        double noise = 0.7;
        SimulatedWorker worker = new SimulatedWorker(0.02, 2.0, noise);
        int trials = 300;
        int violations = 0;
        int certified = 0;
        SplittableRandom rng = new SplittableRandom(11);
        // A large independent sample gives the true error rate among passed outputs for any threshold.
        List<SimulatedWorker.Output> truth = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            truth.add(worker.next(rng));
        }
        for (int t = 0; t < trials; t++) {
            List<WindowEntry> window = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                SimulatedWorker.Output o = worker.next(rng);
                window.add(new WindowEntry("w" + i, i, o.raw(), true, AuditAction.REVIEW, ReviewMode.BLOCKING,
                        AuditReason.PROBATION, 1, 1, true, o.wrong() ? Verdict.REJECTED : Verdict.ACCEPTED));
            }
            ThresholdCertifier.Certificate c = ThresholdCertifier.certify(window, window, 0.01, 0.1, 100);
            if (!c.certified()) {
                continue;
            }
            certified++;
            long passed = 0;
            long wrong = 0;
            for (SimulatedWorker.Output o : truth) {
                if (o.raw() >= c.threshold()) {
                    passed++;
                    wrong += o.wrong() ? 1 : 0;
                }
            }
            double outgoing = (double) wrong / truth.size();
            if (outgoing > 0.01) {
                violations++;
            }
        }
        assertThat(certified).as("most trials certify some threshold").isGreaterThan(trials / 2);
        assertThat((double) violations / trials).as("P(outgoing > A) <= δ").isLessThanOrEqualTo(0.1);
    }

    @Test
    void withALargeSampleTheMonotoneCertificateStillHoldsAAndComesCloseToIt() {
        // AUROC about 0.80; 2,000 certification samples in a 20,000-output window (f = 10 %), A = 1 %, δ = 0.1.
        SimulatedWorker worker = new SimulatedWorker(0.02, 2.0, 1.086);
        SplittableRandom rng = new SplittableRandom(23);
        double[] truthRaw = new double[400_000];
        boolean[] truthWrong = new boolean[truthRaw.length];
        for (int i = 0; i < truthRaw.length; i++) {
            SimulatedWorker.Output o = worker.next(rng);
            truthRaw[i] = o.raw();
            truthWrong[i] = o.wrong();
        }
        int trials = 200;
        int violations = 0;
        double outgoingSum = 0;
        for (int t = 0; t < trials; t++) {
            List<WindowEntry> window = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) {
                SimulatedWorker.Output o = worker.next(rng);
                boolean sampled = i % 10 == 0; // the draw ignores the outcome: a simple random sample
                window.add(TrustedOutputs.entry("w" + i, i, o, 0.1, sampled));
            }
            ThresholdCertifier.Certificate c = ThresholdCertifier.certify(window, window, 0.01, 0.1, 100);
            assertThat(c.certified()).as("trial %d certifies a threshold", t).isTrue();
            long wrong = 0;
            for (int i = 0; i < truthRaw.length; i++) {
                wrong += truthRaw[i] >= c.threshold() && truthWrong[i] ? 1 : 0;
            }
            double outgoing = (double) wrong / truthRaw.length;
            outgoingSum += outgoing;
            violations += outgoing > 0.01 ? 1 : 0;
        }
        assertThat((double) violations / trials).as("P(R(λ) > A) <= δ").isLessThanOrEqualTo(0.1);
        // not vacuous: with c = 13 of n = 2,000 (P(Bin(2000, 1 %) <= 13) = 0.07) the mean risk is near c / n
        assertThat(outgoingSum / trials).as("mean outgoing error of the certified thresholds").isGreaterThan(0.006);
    }

    @Test
    void theCertifiedThresholdIsTheLoosestCandidateWithAtMostCSampledErrorsAbove() {
        // 1,000 sampled outputs at raw confidences 0.000, 0.001, ..., 0.999; wrong ones at the listed ranks from the
        // top. c = max{k: P(Bin(1000, 1 %) <= k) <= 0.1} = 5, so the sixth error from the top ends the prefix.
        int[] wrongFromTop = { 30, 31, 120, 260, 400, 405, 406, 800 };
        java.util.Set<Integer> wrong = new java.util.HashSet<>();
        for (int r : wrongFromTop) {
            wrong.add(999 - r);
        }
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            window.add(new WindowEntry("w" + i, i, i / 1000.0, true, AuditAction.REVIEW, ReviewMode.SHADOW,
                    AuditReason.RANDOM_SAMPLE, 1, 0, true, wrong.contains(i) ? Verdict.REJECTED : Verdict.ACCEPTED));
        }
        assertThat(ThresholdCertifier.pValue(5, 1000, 0.01)).isLessThanOrEqualTo(0.1);
        assertThat(ThresholdCertifier.pValue(6, 1000, 0.01)).isGreaterThan(0.1);
        ThresholdCertifier.Certificate c = ThresholdCertifier.certify(window, window, 0.01, 0.1, 1000);
        assertThat(c.certified()).isTrue();
        assertThat(c.errors()).isEqualTo(5);
        // the loosest threshold above the sixth error (rank 405 from the top, raw 0.594) is 0.595
        assertThat(c.threshold()).isCloseTo(0.595, within(1e-9));
        assertThat(c.passShare()).isCloseTo(0.405, within(1e-9));
    }

    @Test
    void theLearnThenTestPValueIsTheBinomialLowerTail() {
        assertThat(ThresholdCertifier.pValue(0, 230, 0.01)).isCloseTo(Math.pow(0.99, 230), within(1e-12));
        assertThat(ThresholdCertifier.pValue(3, 0, 0.01)).isEqualTo(1.0);
        assertThat(ThresholdCertifier.pValue(3, 10, 1.0)).isZero();
    }

    @Test
    void inverseProbabilityWeightingIsUnbiasedAndItsIntervalCoversAtNinetyFivePercent() {
        SplittableRandom rng = new SplittableRandom(3);
        int trials = 400;
        int covered = 0;
        double sum = 0;
        double truth = 0.008;
        for (int t = 0; t < trials; t++) {
            double weighted = 0;
            double squared = 0;
            int n = 20_000;
            for (int i = 0; i < n; i++) {
                boolean wrong = rng.nextDouble() < truth;
                double pi = rng.nextDouble() < 0.5 ? 0.02 : 0.05; // two sampling rates
                if (wrong && rng.nextDouble() < pi) {
                    weighted += 1 / pi;
                    squared += 1 / (pi * pi);
                }
            }
            WeightedRate r = WeightedRate.of(weighted, squared, 50, n, 0.95);
            sum += r.estimate();
            if (r.lower() <= truth && truth <= r.upper()) {
                covered++;
            }
        }
        assertThat(sum / trials).isCloseTo(truth, within(0.0006));
        assertThat((double) covered / trials).isGreaterThanOrEqualTo(0.93);
        assertThat(WeightedRate.of(0, 0, 50, 10_000, 0.95).upper()).as("zero observed: rule of three x weight")
                .isCloseTo(-Math.log(0.025) * 50 / 10_000, within(1e-6));
    }

    @Test
    void aBatchOfCusumIncrementsEqualsTheSequentialRecursion() {
        SplittableRandom rng = new SplittableRandom(9);
        for (int t = 0; t < 1000; t++) {
            double s0 = rng.nextDouble() * 3;
            double[] w = new double[1 + rng.nextInt(20)];
            double s = s0;
            for (int i = 0; i < w.length; i++) {
                w[i] = rng.nextDouble() * 2 - 1.2;
                s = Math.max(0, s + w[i]);
            }
            assertThat(DriftDetectors.apply(s0, DriftDetectors.batch(w))).isCloseTo(s, within(1e-9));
        }
    }

    @Test
    void theConfidenceCusumIsQuietInControlAndAlarmsSoonAfterAShift() {
        SplittableRandom rng = new SplittableRandom(21);
        double limit = 12;
        // in control: 20 % of outputs under the reference; 200,000 outputs without an alarm
        double s = 0;
        int alarms = 0;
        for (int i = 0; i < 200_000; i++) {
            s = Math.max(0, s + DriftDetectors.confidenceIncrement(rng.nextDouble(), 0.2, 0.2, 0.3));
            if (s >= limit) {
                alarms++;
                s = 0;
            }
        }
        assertThat(alarms).isZero();
        // shifted: 35 % under the reference; the alarm comes within a few hundred outputs
        s = 0;
        int n = 0;
        while (s < limit) {
            s = Math.max(0, s + DriftDetectors.confidenceIncrement(rng.nextDouble(), 0.35, 0.2, 0.3));
            n++;
        }
        assertThat(n).isLessThan(800);
    }
}
