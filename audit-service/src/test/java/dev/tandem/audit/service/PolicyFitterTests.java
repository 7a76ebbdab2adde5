package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.simulation.SimConfigs;
import dev.tandem.audit.simulation.SimulatedWorker;

/** The refit's sampling-rate schedule and the certificate it rests on. */
class PolicyFitterTests {

    private final PolicyFitter fitter = new PolicyFitter(SimConfigs.defaults());
    private final TrustPolicy trust = new TrustPolicy(SimConfigs.defaults());
    private final Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void normalSamplesAtTheBuildUpRateUntilTheWindowHoldsEnoughCertificationSamples() {
        StreamRecord.Builder b = trust.newStream(new StreamKey("b", "t", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = 0.02;
        StreamRecord normal = b.build();
        assertThat(fitter.fit(normal, sample(3999, new SplittableRandom(1)), now).samplingRate()).isEqualTo(0.10);
        assertThat(fitter.fit(normal, sample(4000, new SplittableRandom(1)), now).samplingRate()).isEqualTo(0.02);
        StreamRecord.Builder reduced = normal.toBuilder();
        reduced.state = TrustState.REDUCED;
        reduced.samplingRate = 0.01;
        assertThat(fitter.fit(reduced.build(), sample(100, new SplittableRandom(1)), now).samplingRate())
                .as("REDUCED builds up too").isEqualTo(0.10);
        assertThat(fitter.fit(reduced.build(), sample(4000, new SplittableRandom(1)), now).samplingRate())
                .isEqualTo(0.01);
    }

    @Test
    void aCertificationSampleDrawnAtARateThatFollowsThePastStillHoldsTheTarget() {
        // The schedule switches the rate from 10 % to 2 % once 4,000 samples are in, from past outputs only; the
        // sample stays a simple random sample, so the certified threshold holds A = 1 % at 1 - δ.
        SimulatedWorker worker = new SimulatedWorker(0.02, 2.0, 0.706);
        SplittableRandom rng = new SplittableRandom(5);
        double[] truthRaw = new double[300_000];
        boolean[] truthWrong = new boolean[truthRaw.length];
        for (int i = 0; i < truthRaw.length; i++) {
            SimulatedWorker.Output o = worker.next(rng);
            truthRaw[i] = o.raw();
            truthWrong[i] = o.wrong();
        }
        int trials = 150;
        int violations = 0;
        for (int t = 0; t < trials; t++) {
            List<WindowEntry> window = new ArrayList<>();
            long samples = 0;
            for (int i = 0; i < 50_000; i++) {
                SimulatedWorker.Output o = worker.next(rng);
                double f = fitter.normalRate(samples);
                boolean sampled = rng.nextDouble() < f;
                samples += sampled ? 1 : 0;
                window.add(TrustedOutputs.entry("w" + i, i, o, f, sampled));
            }
            ThresholdCertifier.Certificate c = ThresholdCertifier.certify(window, window, 0.01, 0.1, 100);
            assertThat(c.certified()).isTrue();
            long wrong = 0;
            for (int i = 0; i < truthRaw.length; i++) {
                wrong += truthRaw[i] >= c.threshold() && truthWrong[i] ? 1 : 0;
            }
            violations += (double) wrong / truthRaw.length > 0.01 ? 1 : 0;
        }
        assertThat((double) violations / trials).as("P(outgoing > A) <= δ").isLessThanOrEqualTo(0.1);
    }

    /**
     * The outcome CUSUM's reference is fitted only on outputs decided before its current excursion: errors that
     * arrive during the excursion (the drift it may be detecting) move the calibration, but the reference shift γ
     * pulls the expected error back to what the earlier outputs showed. Without the excursion (CUSUM at 0) the
     * whole window informs it.
     */
    @Test
    void theCusumReferenceIsNotFittedOnTheExcursionItIsTesting() {
        SimulatedWorker worker = new SimulatedWorker(0.02, 2.0, 0.706);
        SplittableRandom rng = new SplittableRandom(11);
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            if (i == 15_000) {
                worker.multiplyErrorOdds(3.0); // the last 5,000 outputs: three times the error odds
            }
            SimulatedWorker.Output o = worker.next(rng);
            boolean sampled = rng.nextDouble() < 0.2;
            window.add(TrustedOutputs.entry("x" + i, i, o, 0.2, sampled));
        }
        StreamRecord.Builder b = trust.newStream(new StreamKey("b", "t", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = 0.2;
        b.outcomeCusum = 3.0;
        b.cusumBaseSeq = 15_000;
        StreamRecord during = fitter.fit(b.build(), window, now);
        b.outcomeCusum = 0;
        StreamRecord atZero = fitter.fit(b.build(), window, now);

        double expectedBefore = meanReference(during, window, 0, 15_000);
        double observedBefore = observedErrors(window, 0, 15_000);
        assertThat(expectedBefore).as("the reference reproduces the outputs before the excursion (observed %.4f)",
                observedBefore).isBetween(observedBefore, observedBefore * 1.35);
        assertThat(during.calibration().referenceLogOdds())
                .as("during the excursion the reference leans against the calibration the drift has moved")
                .isLessThan(atZero.calibration().referenceLogOdds() - 0.1);
    }

    /**
     * {@code drift.reference-lag}: γ̂ is fitted on the window up to a fixed lag before its last output, wherever the
     * CUSUM's excursion began and whatever the outcomes were (at most half the window); the drift of the test above
     * is still kept out of the reference while it is younger than the lag.
     */
    @Test
    void withALagTheReferenceCutOffDependsOnlyOnHowManyOutputsWereDecided() {
        PolicyFitter lagged = new PolicyFitter(SimConfigs.with(Map.of("tandem.audit.drift.reference-lag", "5000")));
        SimulatedWorker worker = new SimulatedWorker(0.02, 2.0, 0.706);
        SplittableRandom rng = new SplittableRandom(11);
        List<WindowEntry> window = new ArrayList<>();
        List<WindowEntry> allWrong = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            if (i == 15_000) {
                worker.multiplyErrorOdds(3.0);
            }
            SimulatedWorker.Output o = worker.next(rng);
            boolean sampled = rng.nextDouble() < 0.2;
            window.add(TrustedOutputs.entry("x" + i, 1_000 + i, o, 0.2, sampled));
            allWrong.add(TrustedOutputs.entry("x" + i, 1_000 + i, new SimulatedWorker.Output(o.raw(), true, 1), 0.2,
                    sampled));
        }
        StreamRecord.Builder b = trust.newStream(new StreamKey("b", "t", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.windowSinceSeq = 1_000;
        b.outcomeCusum = 3.0;
        b.cusumBaseSeq = 17_000;
        StreamRecord inExcursion = b.build();
        b.outcomeCusum = 0;
        StreamRecord atZero = b.build();
        assertThat(fitter.referenceCutoff(inExcursion, window)).as("shipped: where the excursion began")
                .isEqualTo(17_000);
        assertThat(fitter.referenceCutoff(atZero, window)).isEqualTo(Long.MAX_VALUE);
        long cut = 1_000 + 20_000 - 5_000;
        assertThat(lagged.referenceCutoff(inExcursion, window)).isEqualTo(cut);
        assertThat(lagged.referenceCutoff(atZero, window)).isEqualTo(cut);
        assertThat(lagged.referenceCutoff(atZero, allWrong)).as("the outcomes play no part").isEqualTo(cut);
        assertThat(lagged.referenceCutoff(atZero, window.subList(0, 6_000))).as("at most half the window")
                .isEqualTo(1_000 + 3_000);

        StreamRecord during = lagged.fit(inExcursion, window, now);
        double expectedBefore = meanReference(during, window, 0, 15_000);
        double observedBefore = observedErrors(window, 0, 15_000);
        assertThat(expectedBefore).as("a drift younger than the lag is not its own reference (observed %.4f)",
                observedBefore).isBetween(observedBefore, observedBefore * 1.35);
    }

    private static double meanReference(StreamRecord s, List<WindowEntry> window, int from, int to) {
        double sum = 0;
        int n = 0;
        for (WindowEntry e : window.subList(from, to)) {
            if (e.reviewed()) {
                sum += DriftDetectors.reference(1 - dev.tandem.calibration.CalibrationMap.apply(s.calibration(),
                        e.rawConfidence()), s.calibration().referenceLogOdds(), 0.002);
                n++;
            }
        }
        return sum / n;
    }

    private static double observedErrors(List<WindowEntry> window, int from, int to) {
        return window.subList(from, to).stream().filter(WindowEntry::reviewed).mapToDouble(e -> e.rejected() ? 1 : 0)
                .average().orElseThrow();
    }

    @Test
    void aConfidenceThatIsLowForRightOutputsDoesNotKeepThemReviewedUntilCertification() {
        // Half of the outputs carry a low raw confidence (0.2) and none of 120 reviewed outputs was wrong: the default
        // threshold would review that half forever (until a threshold is certified), passing on the gates alone with
        // a blocking sample holds the same target for fewer reviews.
        StreamRecord fitted = fitter.fit(normalStream(), reviewedHalfLow(120, 0.0, new SplittableRandom(3)), now);
        assertThat(fitted.thresholdCertified()).isFalse();
        assertThat(fitted.rawThreshold()).isZero();
        assertThat(fitted.thresholdPassShare()).isEqualTo(1.0);
        assertThat(fitted.blockingRate()).isBetween(0.0, 0.9);
        assertThat(fitted.certification()).contains("no confidence threshold (gates only)");

        PolicyFitter defaultOnly = new PolicyFitter(SimConfigs.with(
                Map.of("tandem.audit.sampling.gates-only-fallback", "false")));
        StreamRecord before = defaultOnly.fit(normalStream(), reviewedHalfLow(120, 0.0, new SplittableRandom(3)), now);
        assertThat(before.rawThreshold()).isEqualTo(0.7);
        double reviewedBefore = 1 - before.thresholdPassShare() * (1 - before.blockingRate());
        double reviewedNow = 1 - fitted.thresholdPassShare() * (1 - fitted.blockingRate());
        assertThat(reviewedNow).isLessThan(reviewedBefore);
    }

    @Test
    void aLowConfidenceThatMarksWrongOutputsKeepsTheDefaultThreshold() {
        // The low-confidence half is wrong one time in five: passing it would need a blocking sample near 1, so the
        // confident half alone passes (under a certified threshold here, or the default one).
        StreamRecord fitted = fitter.fit(normalStream(), reviewedHalfLow(400, 0.2, new SplittableRandom(4)), now);
        assertThat(fitted.rawThreshold()).isGreaterThan(0.2);
        assertThat(fitted.thresholdPassShare()).isEqualTo(0.5);
        assertThat(fitted.certification()).doesNotContain("gates only");
    }

    private StreamRecord normalStream() {
        StreamRecord.Builder b = trust.newStream(new StreamKey("b", "t", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = 0.10;
        return b.build();
    }

    /** n outputs, every one reviewed as a certification sample; odd ones at raw 0.2, wrong with the given rate. */
    private static List<WindowEntry> reviewedHalfLow(int n, double lowErrorRate, SplittableRandom rng) {
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean low = i % 2 == 1;
            boolean wrong = low && rng.nextDouble() < lowErrorRate;
            window.add(new WindowEntry("h" + i, i, low ? 0.2 : 0.9, true, AuditAction.REVIEW, ReviewMode.BLOCKING,
                    low ? AuditReason.LOW_CONFIDENCE : AuditReason.OUTGOING_LIMIT, 1.0, 1.0, true,
                    wrong ? Verdict.REJECTED : Verdict.ACCEPTED));
        }
        return window;
    }

    private static List<WindowEntry> sample(int n, SplittableRandom rng) {
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            window.add(new WindowEntry("c" + i, i, 0.5 + 0.5 * rng.nextDouble(), true, AuditAction.REVIEW,
                    ReviewMode.SHADOW, AuditReason.RANDOM_SAMPLE, 0.1, 0, true, Verdict.ACCEPTED));
        }
        return window;
    }
}
