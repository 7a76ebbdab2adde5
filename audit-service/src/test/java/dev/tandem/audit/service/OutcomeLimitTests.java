package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.AuditReason;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.simulation.SimConfigs;
import dev.tandem.audit.simulation.SimulatedWorker;
import dev.tandem.calibration.CalibrationMap;

/**
 * The outcome CUSUM's limit per stream (issue 18, {@code drift.outcome-false-alarm-rate}): h from the information
 * rate of what the stream reviews and a budget of false alarms per output, by Siegmund's approximation.
 */
class OutcomeLimitTests {

    private static final double LN2 = Math.log(2);
    private final Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void theInformationPerReviewIsTheCusumsExpectedDropWhileTheReferenceHolds() {
        for (double p : new double[] { 0.002, 0.01, 0.1, 0.5 }) {
            double expectedIncrement = p * DriftDetectors.outcomeIncrement(true, p, 2, 0)
                    + (1 - p) * DriftDetectors.outcomeIncrement(false, p, 2, 0);
            assertThat(DriftDetectors.informationAgainstChange(p, 2)).as("p = %s", p)
                    .isCloseTo(-expectedIncrement, within(1e-12)).isPositive();
        }
        // small p: KL(p ‖ p_R) ≈ p·(R − 1 − ln R)
        assertThat(DriftDetectors.informationAgainstChange(0.001, 2)).isCloseTo(0.001 * (1 - LN2), within(1e-6));
    }

    @Test
    void theLimitGivesSiegmundsRunLengthForTheBudgetWithinLnRAndTheConfiguredLimit() {
        double i0 = 0.002;
        double nu = 2e-5;
        double h = DriftDetectors.outcomeLimit(i0, nu, 2, 6);
        assertThat((Math.exp(h) - h - 1) / i0).as("mean outputs to a false alarm").isCloseTo(1 / nu, within(1.0));
        assertThat(h).isBetween(4.5, 5.5);
        assertThat(DriftDetectors.outcomeLimit(i0 / 10, nu, 2, 6)).as("a tenth of the information")
                .isLessThan(h - 1.5);
        assertThat(DriftDetectors.outcomeLimit(1, nu, 2, 6)).as("capped at the configured limit").isEqualTo(6);
        assertThat(DriftDetectors.outcomeLimit(1e-7, nu, 2, 6)).as("one rejection never alarms alone")
                .isEqualTo(LN2);
        assertThat(DriftDetectors.outcomeLimit(i0, 0, 2, 6)).as("budget off").isEqualTo(6);
        assertThat(DriftDetectors.outcomeLimit(0, nu, 2, 6)).as("nothing to derive it from").isEqualTo(6);
    }

    /**
     * The budget holds where the reference is exact, at a high and a low review rate: a Bernoulli CUSUM with the
     * derived limit raises at most ν false alarms per output on fresh stationary draws, and the stream reviewing less
     * gets the lower limit (Siegmund ignores the overshoot, so the measured rate is under ν, not at it).
     */
    @Test
    void theDerivedLimitKeepsTheFalseAlarmBudgetAtEveryReviewRate() {
        double nu = 1e-4; // large enough to count alarms in a few million outputs
        double p = 0.02;
        double[] limits = new double[2];
        double[] rates = { 0.25, 0.03 };
        for (int k = 0; k < rates.length; k++) {
            double r = rates[k];
            limits[k] = DriftDetectors.outcomeLimit(r * DriftDetectors.informationAgainstChange(p, 2), nu, 2, 12);
            SplittableRandom rng = new SplittableRandom(31 + k);
            long outputs = 4_000_000;
            long alarms = 0;
            double s = 0;
            for (long i = 0; i < outputs; i++) {
                if (rng.nextDouble() < r) {
                    s = Math.max(0, s + DriftDetectors.outcomeIncrement(rng.nextDouble() < p, p, 2, 0));
                    if (s >= limits[k]) {
                        alarms++;
                        s = 0;
                    }
                }
            }
            assertThat((double) alarms / outputs).as("false alarms per output at review rate %s, h = %.2f", r,
                    limits[k]).isLessThanOrEqualTo(nu).isGreaterThan(nu / 4);
        }
        assertThat(limits[1]).as("the stream reviewing less gets the lower limit").isLessThan(limits[0] - 1);
    }

    /**
     * The refit derives h from the review probabilities of its policy, not from the reviews its window happens to
     * hold: the same window at the build-up rate (10 %) and, once the certification sample is large, at f = 2 % gives
     * the stream reviewing less the lower limit; with the budget off the configured limit stands.
     */
    @Test
    void aRefitThatLowersTheReviewRateLowersTheLimit() {
        AuditConfig config = SimConfigs.with(Map.of("tandem.audit.drift.outcome-false-alarm-rate", "2e-5"));
        PolicyFitter fitter = new PolicyFitter(config);
        TrustPolicy trust = new TrustPolicy(config);
        StreamRecord.Builder b = trust.newStream(new StreamKey("b", "t", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = 0.1;
        StreamRecord normal = b.build();
        SimulatedWorker worker = new SimulatedWorker(0.02, 2.0, 0.706);
        SplittableRandom rng = new SplittableRandom(3);
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            SimulatedWorker.Output o = worker.next(rng);
            boolean sampled = rng.nextDouble() < 0.1;
            window.add(TrustedOutputs.entry("o" + i, i, o, 0.1, sampled));
        }
        List<WindowEntry> certification = window.stream().filter(WindowEntry::certificationSample).toList();
        StreamRecord buildUp = fitter.fit(normal, window, certification.subList(0, 2_000), now);
        StreamRecord settled = fitter.fit(normal, window, certification, now);
        assertThat(buildUp.samplingRate()).isEqualTo(0.1);
        assertThat(settled.samplingRate()).isEqualTo(0.02);
        assertThat(settled.outcomeLimit()).as("f = 2 %% against the build-up's 10 %% (h %.2f)", buildUp.outcomeLimit())
                .isLessThan(buildUp.outcomeLimit()).isGreaterThanOrEqualTo(LN2);
        assertThat(buildUp.outcomeLimit()).isLessThanOrEqualTo(6);
        assertThat(TrustPolicy.outcomeLimit(config.drift(), settled)).isEqualTo(settled.outcomeLimit());

        PolicyFitter fixed = new PolicyFitter(SimConfigs.defaults());
        StreamRecord off = fixed.fit(normal, window, certification, now);
        assertThat(off.outcomeLimit()).isZero();
        assertThat(TrustPolicy.outcomeLimit(SimConfigs.defaults().drift(), off)).isEqualTo(6);
    }

    /**
     * {@code drift.outcome-information-floor}: a stream whose reviews carry less information per output than the
     * floor keeps the configured limit, where a false alarm costs the most tightened reviews; one above it keeps its
     * derived h. A 0.5 % worker's reviews carry about a quarter of a 2 % worker's; the floor is put between them.
     */
    @Test
    void belowTheInformationFloorTheConfiguredLimitStands() {
        Map<String, String> keys = Map.of("tandem.audit.drift.outcome-false-alarm-rate", "4e-5");
        double nu = 4e-5;
        StreamRecord frequent = settled(new SimulatedWorker(0.02, 2.0, 0.706), SimConfigs.with(keys));
        StreamRecord rare = settled(new SimulatedWorker(0.005, 2.0, 0.706), SimConfigs.with(keys));
        double iFrequent = nu * (Math.exp(frequent.outcomeLimit()) - frequent.outcomeLimit() - 1);
        double iRare = nu * (Math.exp(rare.outcomeLimit()) - rare.outcomeLimit() - 1);
        assertThat(rare.outcomeLimit()).as("derived for the rare stream").isLessThan(frequent.outcomeLimit())
                .isLessThan(5);
        assertThat(iRare).isLessThan(iFrequent / 2);
        Map<String, String> floored = new java.util.HashMap<>(keys);
        floored.put("tandem.audit.drift.outcome-information-floor", String.valueOf(Math.sqrt(iRare * iFrequent)));
        AuditConfig config = SimConfigs.with(floored);
        assertThat(settled(new SimulatedWorker(0.005, 2.0, 0.706), config).outcomeLimit())
                .as("under the floor: the configured limit").isEqualTo(6);
        assertThat(settled(new SimulatedWorker(0.02, 2.0, 0.706), config).outcomeLimit())
                .as("above it: unchanged").isCloseTo(frequent.outcomeLimit(), within(1e-9));
    }

    /** A NORMAL stream refitted on 50,000 outputs of the worker sampled at f = 2 % (the build-up over). */
    private StreamRecord settled(SimulatedWorker worker, AuditConfig config) {
        PolicyFitter fitter = new PolicyFitter(config);
        StreamRecord.Builder b = new TrustPolicy(config).newStream(new StreamKey("b", "t", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = 0.02;
        SplittableRandom rng = new SplittableRandom(5);
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            SimulatedWorker.Output o = worker.next(rng);
            window.add(TrustedOutputs.entry("o" + i, i, o, 0.1, rng.nextDouble() < 0.1));
        }
        return fitter.fit(b.build(), window, window.stream().filter(WindowEntry::certificationSample).toList(), now);
    }

    /**
     * A refit while the outcome CUSUM is in an excursion (S > 0) keeps the limit the excursion began with, even
     * when the policy it fits would derive another (here the build-up's end: f from 10 % to 2 %, a lower h); the
     * policy itself still changes. Back at S = 0 the next refit derives the new limit. Without the freeze the refit
     * lowers h mid-excursion.
     */
    @Test
    void aRefitDuringAnExcursionKeepsTheLimitTheExcursionBeganWith() {
        AuditConfig config = SimConfigs.with(Map.of("tandem.audit.drift.outcome-false-alarm-rate", "2e-5"));
        PolicyFitter fitter = new PolicyFitter(config);
        StreamRecord.Builder b = new TrustPolicy(config).newStream(new StreamKey("b", "t", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = 0.1;
        SimulatedWorker worker = new SimulatedWorker(0.02, 2.0, 0.706);
        SplittableRandom rng = new SplittableRandom(3);
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            SimulatedWorker.Output o = worker.next(rng);
            window.add(TrustedOutputs.entry("o" + i, i, o, 0.1, rng.nextDouble() < 0.1));
        }
        List<WindowEntry> certification = window.stream().filter(WindowEntry::certificationSample).toList();
        StreamRecord buildUp = fitter.fit(b.build(), window, certification.subList(0, 2_000), now);
        double began = buildUp.outcomeLimit();
        assertThat(began).isBetween(LN2, 6.0);

        StreamRecord.Builder climbing = buildUp.toBuilder();
        climbing.outcomeCusum = 2.0;
        StreamRecord inExcursion = fitter.fit(climbing.build(), window, certification, now);
        assertThat(inExcursion.samplingRate()).as("the policy still moves to f = 2 %%").isEqualTo(0.02);
        assertThat(inExcursion.outcomeLimit()).as("h of the excursion").isEqualTo(began);

        StreamRecord.Builder atZero = inExcursion.toBuilder();
        atZero.outcomeCusum = 0;
        StreamRecord after = fitter.fit(atZero.build(), window, certification, now);
        assertThat(after.outcomeLimit()).as("h once S is back at 0").isLessThan(began - 0.01);

        PolicyFitter unfrozen = new PolicyFitter(SimConfigs.with(Map.of(
                "tandem.audit.drift.outcome-false-alarm-rate", "2e-5",
                "tandem.audit.drift.outcome-limit-frozen-in-excursion", "false")));
        assertThat(unfrozen.fit(climbing.build(), window, certification, now).outcomeLimit())
                .as("without the freeze").isEqualTo(after.outcomeLimit());
    }

    @Test
    void theOutcomeAlarmUsesTheStreamsOwnLimit() {
        AuditConfig config = SimConfigs.with(Map.of("tandem.audit.drift.outcome-false-alarm-rate", "2e-5"));
        TrustPolicy policy = new TrustPolicy(config);
        StreamRecord.Builder b = policy.newStream(new StreamKey("b", "t", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = 0.02;
        b.thresholdCertified = true;
        b.rawThreshold = 0.6;
        b.calibration = new CalibrationMap("ISOTONIC", new double[] { 0.0, 1.0 }, new double[] { 0.0, 1.0 }, 100, 0, 0,
                0, 0, 30, now);
        b.outcomeLimit = 2.5;
        StreamRecord s = b.build();
        int rejections = 0;
        TrustUpdate u = null;
        while (u == null || !u.stateChanged()) {
            u = policy.apply(s, Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.99, 10, now);
            s = u.stream();
            rejections++;
        }
        assertThat(rejections).isEqualTo((int) Math.ceil(2.5 / (LN2 - Math.log(1.01))));
        assertThat(u.driftAlarm()).isEqualTo("outcome");
        assertThat(u.changeReason()).contains("limit 2.50, derived for this stream's reviews");

        // the budget off: the configured limit, whatever the row holds
        TrustPolicy fixed = new TrustPolicy(SimConfigs.defaults());
        StreamRecord.Builder again = b.build().toBuilder();
        again.outcomeCusum = 2.6;
        assertThat(fixed.apply(again.build(), Verdict.ACCEPTED, AuditReason.LOW_CONFIDENCE, 0.99, 10, now)
                .stateChanged()).isFalse();
    }
}
