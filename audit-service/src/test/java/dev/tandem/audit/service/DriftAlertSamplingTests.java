package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.simulation.SimConfigs;
import dev.tandem.audit.simulation.SimulatedStream;
import dev.tandem.audit.simulation.SimulatedWorker;
import dev.tandem.calibration.CalibrationMap;

/**
 * More labels while the outcome CUSUM is half-way to its alarm ({@code drift.alert-sampling-rate}, issue 18): f is
 * raised in the stream's policy only while S ≥ level·h, the policy rate comes back when S falls under it or the SPRT
 * refutes the alarm, and every decision records the f it was drawn with, so the extra reviews carry IPW weight 1/f.
 */
class DriftAlertSamplingTests {

    private static final double ALERT = 0.25;
    private final AuditConfig config = SimConfigs.with(Map.of("tandem.audit.drift.alert-sampling-rate",
            Double.toString(ALERT), "tandem.audit.drift.alert-level", "0.5"));
    private final TrustPolicy policy = new TrustPolicy(config);
    private final PolicyFitter fitter = new PolicyFitter(config);
    private final double half = 0.5 * config.drift().outcomeLimit();
    private final Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void samplingRisesOnlyWhileTheCusumIsHalfWayAndARefitRestoresThePolicyRate() {
        StreamRecord.Builder b = trusted().toBuilder();
        b.outcomeCusum = half - 1.0;
        StreamRecord s = b.build();

        // a confident output (expected error 1 %) rejected: +ln 2 - ln 1.01, still under h/2 (reason LOW_CONFIDENCE
        // so that CSP-2 stays out of it)
        TrustUpdate u = policy.apply(s, Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.99, 10, now);
        assertThat(u.stream().outcomeCusum()).isLessThan(half);
        assertThat(u.stream().samplingRate()).as("under h/2: the policy rate").isEqualTo(0.02);
        // an accepted output changes nothing either
        u = policy.apply(u.stream(), Verdict.ACCEPTED, AuditReason.RANDOM_SAMPLE, 0.99, 11, now);
        assertThat(u.stream().samplingRate()).isEqualTo(0.02);

        u = policy.apply(u.stream(), Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.99, 12, now);
        s = u.stream();
        assertThat(s.outcomeCusum()).isGreaterThanOrEqualTo(half).isLessThan(config.drift().outcomeLimit());
        assertThat(s.state()).isEqualTo(TrustState.NORMAL);
        assertThat(s.samplingRate()).as("half-way: the alert rate").isEqualTo(ALERT);
        assertThat(s.policyVersion()).as("replicas re-read the policy").isGreaterThan(trusted().policyVersion());
        assertThat(u.needsFit()).isFalse();
        assertThat(fitter.fit(s, window(200), now).samplingRate()).as("a refit while half-way keeps it")
                .isEqualTo(ALERT);

        // accepted outputs with expected error 50 % (-ln 1.5 each) bring S back under h/2
        while (s.outcomeCusum() >= half) {
            u = policy.apply(s, Verdict.ACCEPTED, AuditReason.LOW_CONFIDENCE, 0.5, 13, now);
            s = u.stream();
        }
        assertThat(u.needsFit()).as("the policy rate is the refit's (build-up or the state's f)").isTrue();
        StreamRecord refitted = fitter.fit(s, window(200), now);
        assertThat(refitted.samplingRate()).as("back to the policy rate (build-up: few certification samples)")
                .isEqualTo(config.sampling().buildUpRate());
        assertThat(fitter.fit(s, window(5000), now).samplingRate()).isEqualTo(config.sampling().normalRate());

        // the CUSUM falling to 0 from half-way (outputs with expected error 99.8 % accepted): the same, once
        b = trusted().toBuilder();
        b.outcomeCusum = half + 0.1;
        b.samplingRate = ALERT;
        s = b.build();
        int refits = 0;
        while (s.outcomeCusum() > 0) {
            u = policy.apply(s, Verdict.ACCEPTED, AuditReason.LOW_CONFIDENCE, 0.001, 14, now);
            s = u.stream();
            refits += u.needsFit() ? 1 : 0;
        }
        assertThat(refits).as("one refit, where S fell under h/2").isEqualTo(1);
        assertThat(fitter.fit(s, window(5000), now).samplingRate()).isEqualTo(0.02);
    }

    @Test
    void whenTheSprtRefutesTheAlarmTheStreamReturnsToThePolicyRate() {
        StreamRecord.Builder b = trusted().toBuilder();
        b.windowSinceSeq = 100;
        b.outcomeCusum = config.drift().outcomeLimit() - 0.1;
        b.samplingRate = ALERT;
        TrustUpdate u = policy.apply(b.build(), Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.9, 5000, now);
        StreamRecord s = u.stream();
        assertThat(s.state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(s.samplingRate()).isEqualTo(1.0);
        while (!u.stateChanged() || s.state() == TrustState.TIGHTENED) {
            u = policy.apply(s, Verdict.ACCEPTED, AuditReason.TIGHTENED, 0.9, 6000, now);
            s = u.stream();
        }
        assertThat(u.changeReason()).contains("drift not confirmed");
        assertThat(s.windowSinceSeq()).as("the old window, kept through the refuted alarm").isEqualTo(100);
        assertThat(s.outcomeCusum()).isZero();
        assertThat(s.samplingRate()).as("NORMAL's rate, not the alert's").isEqualTo(0.02);
        assertThat(u.needsFit()).isTrue();
        assertThat(fitter.fit(s, window(5000), now).samplingRate()).isEqualTo(0.02);
    }

    @Test
    void withoutTheSettingNothingChanges() {
        TrustPolicy plain = new TrustPolicy(SimConfigs.defaults());
        StreamRecord.Builder b = trusted().toBuilder();
        b.outcomeCusum = half + 1;
        TrustUpdate u = plain.apply(b.build(), Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.99, 10, now);
        assertThat(u.stream().samplingRate()).isEqualTo(0.02);
        assertThat(u.stream().policyVersion()).isEqualTo(trusted().policyVersion());
    }

    /**
     * The decision rule draws at the raised f and records it: over many outputs decided at the alert rate, the
     * share reviewed is f and every decision's π (the IPW weight 1/π) is f, and the estimate Σ y/π / N over a
     * stream with both rates recovers the error rate.
     */
    @Test
    void theExtraReviewsAreDrawnAtTheRecordedProbabilityAndWeightedByIt() {
        AuditPolicy audit = new AuditPolicy(config);
        StreamRecord.Builder b = trusted().toBuilder();
        b.samplingRate = ALERT;
        StreamRecord alerted = b.build();
        StreamRecord normal = trusted();
        SplittableRandom rng = new SplittableRandom(11);
        int n = 40_000;
        double weightedErrors = 0;
        long errors = 0;
        long reviewedAtAlert = 0;
        for (int i = 0; i < n; i++) {
            boolean alert = i % 2 == 0; // half the outputs decided while half-way
            double raw = 0.6 + 0.4 * rng.nextDouble(); // all above the threshold 0.6: only the draw reviews
            boolean wrong = rng.nextDouble() < 0.05;
            errors += wrong ? 1 : 0;
            Decision d = audit.decide(new DecisionRequest("d" + i, "t", "s", alerted.key(), raw, raw, true),
                    alert ? alerted : normal);
            assertThat(d.samplingProbability()).isEqualTo(alert ? ALERT : 0.02);
            boolean reviewed = d.action() == AuditAction.REVIEW;
            if (reviewed) {
                assertThat(d.reason()).isEqualTo(AuditReason.RANDOM_SAMPLE);
                assertThat(d.certificationSample()).isTrue();
                reviewedAtAlert += alert ? 1 : 0;
                weightedErrors += wrong ? 1 / d.samplingProbability() : 0;
            }
        }
        double share = (double) reviewedAtAlert / (n / 2);
        assertThat(share).as("share reviewed at the alert rate").isCloseTo(ALERT, within(4 * Math.sqrt(
                ALERT * (1 - ALERT) / (n / 2))));
        // the IPW estimate against the realised error rate; its sd is about sqrt(p/N·(1/π̄ - p)) ≈ 0.0033 here
        assertThat(weightedErrors / n).isCloseTo((double) errors / n, within(0.012));
    }

    /**
     * Through the real classes (the simulator): every decision of a stationary stream is recorded with the f its
     * draw used, the alert rate among them, and the stream still raises at most the goal's 1 false alarm per 25,000
     * outputs with its calibration imperfect (issue 18's external family).
     */
    @Test
    void aMiscalibratedStationaryStreamWithTheAlertStaysWithinTheFalseAlarmBudget() {
        SimulatedWorker.Family external = SimulatedWorker.FAMILIES.stream().filter(f -> f.name().equals("external"))
                .findFirst().orElseThrow();
        long alarms = 0;
        long counted = 0;
        long atAlert = 0;
        for (long seed = 7_300; seed < 7_302; seed++) {
            SimulatedWorker worker = external.worker();
            SplittableRandom rng = new SplittableRandom(seed);
            SimulatedStream stream = new SimulatedStream(config, "a" + seed + "-");
            for (int i = 0; i < 50_000; i++) {
                StreamRecord before = stream.stream();
                Decision d = stream.accept(worker.next(rng));
                if (d.reason() == AuditReason.RANDOM_SAMPLE || d.reason() == AuditReason.TRUSTED
                        || d.reason() == AuditReason.OUTGOING_LIMIT) {
                    assertThat(d.samplingProbability()).as("π of output %d", i)
                            .isEqualTo(Math.max(before.samplingRate(), Math.min(1, before.blockingRate())));
                    atAlert += d.samplingProbability() == ALERT ? 1 : 0;
                }
            }
            alarms += stream.tightenings().stream().filter(t -> t[0] > 5_000).count();
            counted += 45_000;
        }
        assertThat(atAlert).as("outputs decided at the alert rate (the check must see some)").isPositive();
        assertThat(25_000.0 * alarms / counted).as("tightenings per 25,000 stationary outputs (%d)", alarms)
                .isLessThanOrEqualTo(1.0);
    }

    private StreamRecord trusted() {
        StreamRecord.Builder b = policy.newStream(new StreamKey("embedded-minilm", "classify", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = 0.02;
        b.thresholdCertified = true;
        b.rawThreshold = 0.6;
        b.thresholdPassShare = 1.0;
        b.blockingRate = 0;
        b.calibration = new CalibrationMap("ISOTONIC", new double[] { 0.0, 1.0 }, new double[] { 0.0, 1.0 }, 100,
                0, 0, 0, 0, 30, now);
        return b.build();
    }

    /** n reviewed certification samples, all accepted. */
    private static List<WindowEntry> window(int n) {
        SplittableRandom rng = new SplittableRandom(3);
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            window.add(new WindowEntry("w" + i, i, 0.5 + 0.5 * rng.nextDouble(), true, AuditAction.REVIEW,
                    ReviewMode.SHADOW, AuditReason.RANDOM_SAMPLE, 0.1, 0, true, Verdict.ACCEPTED));
        }
        return window;
    }
}
