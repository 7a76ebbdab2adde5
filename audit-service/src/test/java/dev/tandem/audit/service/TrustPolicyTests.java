package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.AuditReason;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.simulation.SimConfigs;
import dev.tandem.calibration.CalibrationMap;

/** Every trust-state transition, one test each, with the reasons they record. */
class TrustPolicyTests {

    private final TrustPolicy policy = new TrustPolicy(SimConfigs.defaults());
    /** h, the outcome CUSUM's limit (the tests put the statistic just under it). */
    private static final double LIMIT = SimConfigs.defaults().drift().outcomeLimit();
    private final Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void jeffreysUpperBoundWithoutRejectionsClearsTwoPercentAfter95Reviews() {
        assertThat(ErrorRateBounds.upper(0, 94, 0.95, 0.5, 0.5)).isGreaterThan(0.02);
        assertThat(ErrorRateBounds.upper(0, 95, 0.95, 0.5, 0.5)).isLessThanOrEqualTo(0.02);
        for (int n : new int[] { 0, 10, 148, 1000 }) {
            assertThat(ErrorRateBounds.upper(0, n, 0.95)).isCloseTo(1 - Math.pow(0.05, 1.0 / (n + 1)), within(1e-6));
        }
    }

    @Test
    void probationToNormalOnTheClearanceBoundAndTheNewStateNeedsARefit() {
        StreamRecord s = policy.newStream(key(), now);
        TrustUpdate u = null;
        for (int i = 1; i <= 95; i++) {
            u = policy.apply(s, Verdict.ACCEPTED, AuditReason.PROBATION, 0.9, 1, now);
            s = u.stream();
            assertThat(s.state()).as("after %d clean reviews", i)
                    .isEqualTo(i < 95 ? TrustState.PROBATION : TrustState.NORMAL);
        }
        assertThat(u.changeReason()).contains("trust earned").contains("95 reviews");
        assertThat(u.needsFit()).isTrue();
        assertThat(s.samplingRate()).isEqualTo(0.02);
        assertThat(s.blockingRate()).as("every confident output blocking until the refit").isEqualTo(1.0);
        assertThat(s.policyVersion()).isEqualTo(1);
    }

    @Test
    void probationToNormalOnACertifiedThresholdAfterARefit() {
        StreamRecord.Builder b = policy.newStream(key(), now).toBuilder();
        b.stateReviewed = 40;
        b.thresholdCertified = true;
        b.thresholdPassShare = 0.2;
        b.certification = "raw threshold 0.8 certified";
        assertThat(policy.afterFit(b.build(), now)).as("a threshold that passes 20 %% does not clear").isNull();
        b.thresholdPassShare = 0.7;
        TrustUpdate u = policy.afterFit(b.build(), now);
        assertThat(u.stream().state()).isEqualTo(TrustState.NORMAL);
        assertThat(u.changeReason()).contains("certified threshold");
        b.thresholdCertified = false;
        assertThat(policy.afterFit(b.build(), now)).isNull();
    }

    @Test
    void probationToSuspendedWhenShownBad() {
        StreamRecord s = policy.newStream(key(), now);
        TrustUpdate u = null;
        for (int i = 0; i < 20; i++) {
            u = policy.apply(s, i % 2 == 0 ? Verdict.REJECTED : Verdict.ACCEPTED, AuditReason.PROBATION, 0.5, 1, now);
            s = u.stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.SUSPENDED);
        assertThat(u.changeReason()).contains("shown above 10.0 %");
    }

    @Test
    void theTrustTargetAndTheSuspensionLimitFollowTheStreamsA() {
        // GSM8K's weak model against its oracle: a third of the reviews reject. At A = 1 % that is a bad stream
        // (suspended above 10 %); a worker type whose A is 35 % accepts that error rate, so the stream is not
        // suspended, and is trusted once its error is shown under 2 x 35 %.
        TrustPolicy lenient = new TrustPolicy(SimConfigs.with(Map.of("tandem.audit.target.worker-types.\"solve\"",
                "0.35")));
        StreamRecord strict = policy.newStream(new StreamKey("weak", "solve", ""), now);
        StreamRecord loose = lenient.newStream(new StreamKey("weak", "solve", ""), now);
        for (int i = 0; i < 60; i++) {
            Verdict v = i % 3 == 0 ? Verdict.REJECTED : Verdict.ACCEPTED;
            if (strict.state() == TrustState.PROBATION) {
                strict = policy.apply(strict, v, AuditReason.PROBATION, 0.5, 1, now).stream();
            }
            loose = lenient.apply(loose, v, AuditReason.PROBATION, 0.5, 1, now).stream();
        }
        assertThat(strict.state()).isEqualTo(TrustState.SUSPENDED);
        assertThat(loose.state()).isEqualTo(TrustState.NORMAL);
        // explicit limits still apply to every stream
        TrustPolicy fixed = new TrustPolicy(SimConfigs.with(Map.of("tandem.audit.target.worker-types.\"solve\"",
                "0.35", "tandem.audit.trust.suspend-error-rate", "0.10", "tandem.audit.trust.target-error-rate",
                "0.02")));
        StreamRecord pinned = fixed.newStream(new StreamKey("weak", "solve", ""), now);
        for (int i = 0; i < 30 && pinned.state() == TrustState.PROBATION; i++) {
            pinned = fixed.apply(pinned, i % 3 == 0 ? Verdict.REJECTED : Verdict.ACCEPTED, AuditReason.PROBATION,
                    0.5, 1, now).stream();
        }
        assertThat(pinned.state()).isEqualTo(TrustState.SUSPENDED);
    }

    @Test
    void normalToTightenedOnTheOutcomeCusumRestartsTheEvidenceWindow() {
        StreamRecord s = trusted(TrustState.NORMAL);
        TrustUpdate u = null;
        int rejections = 0;
        while (u == null || !u.stateChanged()) {
            // confident outputs (expected error 1 %) rejected every time: the statistic climbs by ln 2 - ln 1.01
            u = policy.apply(s, Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.99, 777, now);
            s = u.stream();
            rejections++;
        }
        assertThat(rejections).isEqualTo((int) Math.ceil(LIMIT / (Math.log(2) - Math.log(1.01))));
        assertThat(s.state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(u.driftAlarm()).isEqualTo("outcome");
        assertThat(u.changeReason()).contains("risk-adjusted CUSUM");
        assertThat(s.windowSinceSeq()).isEqualTo(777);
        assertThat(s.thresholdCertified()).isFalse();
        assertThat(s.outcomeCusum()).isZero();
        assertThat(s.driftAlarms()).isEqualTo(1);
    }

    @Test
    void aFalseOutcomeAlarmIsRefutedByTheSprtAndTheOldWindowRestored() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.windowSinceSeq = 100;
        b.outcomeCusum = LIMIT - 0.1;
        TrustUpdate alarm = policy.apply(b.build(), Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.9, 5000, now);
        StreamRecord s = alarm.stream();
        assertThat(s.state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(s.windowSinceSeq()).isEqualTo(5000);
        assertThat(s.previousWindowSinceSeq()).isEqualTo(100);
        TrustUpdate u = null;
        int reviews = 0;
        // outputs with expected error 10 % all accepted: each adds -ln(1.1); refuted after ceil(ln 20 / ln 1.1)
        while (u == null || !u.stateChanged()) {
            u = policy.apply(s, Verdict.ACCEPTED, AuditReason.TIGHTENED, 0.9, 6000, now);
            s = u.stream();
            reviews++;
        }
        assertThat(reviews).isEqualTo((int) Math.ceil(Math.log(20) / Math.log(1.1)));
        assertThat(s.state()).isEqualTo(TrustState.NORMAL);
        assertThat(u.changeReason()).contains("drift not confirmed");
        assertThat(s.windowSinceSeq()).isEqualTo(100);
        assertThat(s.previousWindowSinceSeq()).isNull();
        assertThat(u.needsFit()).isTrue();
    }

    @Test
    void whileTheSprtRunsNeitherACertificateNorTheClearanceBoundEndsTheTightenedState() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.windowSinceSeq = 100;
        b.outcomeCusum = LIMIT - 0.1;
        StreamRecord s = policy.apply(b.build(), Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.9, 5000, now)
                .stream();
        assertThat(TrustPolicy.confirmationPending(s)).isTrue();
        // very confident outputs (expected error 1 %) accepted: the clearance bound falls under 2 % after 95 reviews,
        // but each adds only -ln 1.01 to the SPRT, which needs ceil(ln 20 / ln 1.01) = 302 to refute
        for (int i = 0; i < 200; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, AuditReason.TIGHTENED, 0.99, 6000, now).stream();
        }
        assertThat(ErrorRateBounds.upper(0, 200, 0.95, 0.5, 0.5)).isLessThan(0.02);
        assertThat(s.state()).as("the clearance bound waits for the SPRT").isEqualTo(TrustState.TIGHTENED);
        StreamRecord.Builder certified = s.toBuilder();
        certified.thresholdCertified = true;
        certified.thresholdPassShare = 0.9;
        assertThat(policy.afterFit(certified.build(), now)).as("no promotion on the new window's certificate")
                .isNull();
        TrustUpdate u = null;
        int reviews = 200;
        while (u == null || !u.stateChanged()) {
            u = policy.apply(s, Verdict.ACCEPTED, AuditReason.TIGHTENED, 0.99, 6000, now);
            s = u.stream();
            reviews++;
        }
        assertThat(reviews).isEqualTo((int) Math.ceil(Math.log(20) / Math.log(1.01)));
        assertThat(u.changeReason()).contains("drift not confirmed");
        assertThat(s.windowSinceSeq()).as("old window restored").isEqualTo(100);
    }

    @Test
    void anUndecidedSprtKeepsTheOldWindowAfterTheMaximumOfTightenedReviews() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.windowSinceSeq = 100;
        b.outcomeCusum = LIMIT - 0.1;
        StreamRecord s = policy.apply(b.build(), Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.9, 5000, now)
                .stream();
        StreamRecord.Builder stuck = s.toBuilder();
        stuck.stateReviewed = 1499;
        stuck.confirmationLlr = 2.0; // leaning towards drift, but short of ln 20
        TrustUpdate u = policy.apply(stuck.build(), Verdict.ACCEPTED, AuditReason.TIGHTENED, 0.9, 6000, now);
        s = u.stream();
        assertThat(u.changeReason()).contains("neither confirmed nor refuted").contains("evidence window kept");
        assertThat(s.state()).isEqualTo(TrustState.NORMAL);
        assertThat(TrustPolicy.confirmationPending(s)).isFalse();
        assertThat(s.windowSinceSeq()).as("only a confirmed change discards the window").isEqualTo(100);
        assertThat(s.thresholdCertified()).as("recertified on the kept window first").isFalse();
        assertThat(u.needsFit()).isTrue();
    }

    @Test
    void theReferenceShiftMovesTheCusumsExpectationAndTheSprtTestsAgainstIt() {
        // outputs at expected error 10 % that are wrong 15 % of the time: against the bare calibration each review
        // adds 0.15 ln 2 - ln 1.1 = +0.009 on average (drift), against a reference shifted by ln 1.5 it adds
        // 0.15 ln 2 - ln(1 + p') with p' = 1/7: -0.030 (in control)
        double bare = 0.15 * DriftDetectors.outcomeIncrement(true, 0.10, 0, 2.0, 0.002)
                + 0.85 * DriftDetectors.outcomeIncrement(false, 0.10, 0, 2.0, 0.002);
        double shifted = 0.15 * DriftDetectors.outcomeIncrement(true, 0.10, Math.log(1.5), 2.0, 0.002)
                + 0.85 * DriftDetectors.outcomeIncrement(false, 0.10, Math.log(1.5), 2.0, 0.002);
        assertThat(bare).isPositive();
        assertThat(shifted).isNegative();
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.calibration = b.calibration.withReferenceLogOdds(Math.log(1.5));
        b.outcomeCusum = 1.0;
        StreamRecord s = policy.apply(b.build(), Verdict.ACCEPTED, AuditReason.LOW_CONFIDENCE, 0.9, 10, now).stream();
        // the identity calibration puts raw 0.9 at expected error 0.1; shifted by ln 1.5 it is 1/7
        assertThat(s.outcomeCusum()).isCloseTo(1.0 - Math.log(8.0 / 7), within(1e-9));
    }

    @Test
    void theReferenceShiftIsWhatTheOutcomesShowPlusItsUncertainty() {
        // 10,000 outputs at expected error 10 %, 1,500 wrong (odds 0.176 vs 0.111): γ̂ ≈ ln 1.59 ≈ 0.46
        double[] expected = new double[10_000];
        boolean[] rejected = new boolean[expected.length];
        java.util.Arrays.fill(expected, 0.10);
        for (int i = 0; i < 1_500; i++) {
            rejected[i] = true;
        }
        double hat = Math.log(0.15 / 0.85 / (0.10 / 0.90));
        double se = 1 / Math.sqrt(10_000 * 0.15 * 0.85 + 1);
        assertThat(DriftDetectors.referenceShift(expected, rejected, 0)).isCloseTo(hat, within(0.002));
        assertThat(DriftDetectors.referenceShift(expected, rejected, 1.64)).isCloseTo(hat + 1.64 * se,
                within(0.002));
        assertThat(DriftDetectors.referenceShift(new double[0], new boolean[0], 1.64)).isZero();
        // no errors at all: finite (the N(0, 1) prior), negative, and never past ln 4
        assertThat(DriftDetectors.referenceShift(expected, new boolean[expected.length], 0))
                .isBetween(-Math.log(4), -1.0);
    }

    @Test
    void theOutcomeCusumRemembersWhereItsExcursionBegan() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.outcomeCusum = 0.2;
        b.cusumBaseSeq = 40;
        // an accepted review at expected error 0.5 (w = -ln 1.5) pulls it back to 0: no excursion, the base moves
        StreamRecord s = policy.apply(b.build(), Verdict.ACCEPTED, AuditReason.RANDOM_SAMPLE, 0.5, 120, now)
                .stream();
        assertThat(s.outcomeCusum()).isZero();
        assertThat(s.cusumBaseSeq()).isEqualTo(120);
        // a rejection starts an excursion and further reviews during it leave the base where it was
        s = policy.apply(s, Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.9, 130, now).stream();
        assertThat(s.outcomeCusum()).isPositive();
        s = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.9, 150, now).stream();
        assertThat(s.cusumBaseSeq()).as("outputs from 120 on are the excursion").isEqualTo(120);
    }

    @Test
    void theConfirmationTestsAgainstTheEstimatedShiftNotTheCusumsMargin() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        // the CUSUM's reference is shifted by ln 1.5 (estimate + margin); the estimate alone is 0
        b.calibration = b.calibration.withReferenceShift(Math.log(1.5), 0);
        b.windowSinceSeq = 100;
        b.outcomeCusum = LIMIT - 0.1;
        StreamRecord s = policy.apply(b.build(), Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.9, 5000, now)
                .stream();
        assertThat(TrustPolicy.confirmationPending(s)).isTrue();
        s = policy.apply(s, Verdict.REJECTED, AuditReason.TIGHTENED, 0.9, 6000, now).stream();
        // raw 0.9 is an expected error of 0.1 under the identity calibration: H₀ at 0.1, not at 1/7 (0.1 shifted by
        // ln 1.5), so a rejection weighs ln 2 − ln 1.1
        assertThat(s.confirmationLlr()).isCloseTo(Math.log(2) - Math.log(1.1), within(1e-9));
    }

    @Test
    void aConfirmedOutcomeAlarmKeepsTheNewWindow() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.windowSinceSeq = 100;
        b.outcomeCusum = LIMIT - 0.1;
        StreamRecord s = policy.apply(b.build(), Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.9, 5000, now)
                .stream();
        for (int i = 0; i < 6; i++) { // each adds ln 2 - ln 1.1; confirmed at ln 20
            s = policy.apply(s, Verdict.REJECTED, AuditReason.TIGHTENED, 0.9, 6000, now).stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(s.previousWindowSinceSeq()).as("confirmed").isNull();
        assertThat(s.windowSinceSeq()).isEqualTo(5000);
    }

    @Test
    void acceptedLowConfidenceReviewsPullTheOutcomeCusumDown() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.outcomeCusum = 3;
        StreamRecord s = policy.apply(b.build(), Verdict.ACCEPTED, AuditReason.LOW_CONFIDENCE, 0.5, 1, now).stream();
        assertThat(s.outcomeCusum()).isCloseTo(3 - Math.log(1 + 0.5), within(1e-9));
    }

    @Test
    void atTheBuildUpRateCsp2CountsKInOutputsOfTheNormalRate() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.samplingRate = 0.10; // k = max(1, round(5 * 0.02 / 0.10)) = 1
        StreamRecord s = policy.apply(b.build(), Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        s = policy.apply(s, Verdict.ACCEPTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        s = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        assertThat(s.state()).as("one accepted sample in between: beyond k = 1").isEqualTo(TrustState.NORMAL);
        TrustUpdate u = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now);
        assertThat(u.stream().state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(u.changeReason()).contains("within 1 sampled reviews (limit 1)");
    }

    @Test
    void normalToTightenedOnTheSecondSampledRejectionWithinK() {
        StreamRecord s = trusted(TrustState.NORMAL);
        s = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        assertThat(s.state()).isEqualTo(TrustState.NORMAL);
        for (int i = 0; i < 3; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        }
        TrustUpdate u = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now);
        assertThat(u.stream().state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(u.changeReason()).contains("CSP-2").contains("within 4 sampled reviews");
        assertThat(u.driftAlarm()).isNull();
        assertThat(u.stream().windowSinceSeq()).as("no drift: the evidence stays").isZero();
    }

    @Test
    void sampledRejectionsFartherApartThanKDoNotTighten() {
        StreamRecord s = trusted(TrustState.NORMAL);
        s = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        for (int i = 0; i < 5; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        }
        s = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        assertThat(s.state()).isEqualTo(TrustState.NORMAL);
    }

    @Test
    void csp2ShortensKWhereThePassedErrorRateThePolicyAllowsMakesCloseRejectionsCommon() {
        // a 10 % worker with a certified threshold passing half its outputs: θ₀ = A/s = 2 %; at f = 2 % that is
        // 2e-4 sampled rejections per output, so the budget of 1e-5 allows P(gap <= g) <= 5 %: g = 2 (3.96 %)
        StreamRecord s = passingHalf();
        assertThat(policy.allowedPassedErrorRate(s)).isCloseTo(0.02, within(1e-12));
        assertThat(policy.tightenWithin(s)).isEqualTo(2);
        s = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        s = policy.apply(s, Verdict.ACCEPTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        s = policy.apply(s, Verdict.ACCEPTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        s = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        assertThat(s.state()).as("a gap of 3 is within the old k = 5, not within 2").isEqualTo(TrustState.NORMAL);
        s = policy.apply(s, Verdict.ACCEPTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now).stream();
        TrustUpdate u = policy.apply(s, Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now);
        assertThat(u.stream().state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(u.changeReason()).contains("CSP-2").contains("within 2 sampled reviews (limit 2 at the passed "
                + "error rate of 2.00 % the policy allows)");

        StreamRecord.Builder uncertified = passingHalf().toBuilder();
        uncertified.thresholdCertified = false;
        uncertified.blockingRate = 0.5; // the default threshold's blocking sample: U = A/(s(1 − b)) = 4 %
        assertThat(policy.allowedPassedErrorRate(uncertified.build())).isCloseTo(0.04, within(1e-12));
        assertThat(policy.tightenWithin(uncertified.build())).as("a = 0.5: 1e-3 rejections per output, P <= 1 %%: "
                + "not even two in a row is that rare").isZero();
        assertThat(policy.tightenWithin(trusted(TrustState.NORMAL))).as("no pass share yet: the configured k")
                .isEqualTo(5);
    }

    @Test
    void aStationaryStreamAtItsAllowedPassedErrorRateStaysWithinCsp2sFalseAlarmBudget() {
        // 100,000 sampled reviews of passed outputs wrong at θ₀ = 2 %, i.e. 10 million outputs at a·s = 1 %
        double outputs = 100_000 / (0.02 * 0.5);
        int budgeted = csp2Tightenings(policy, 0.02, 100_000, 18);
        TrustPolicy configuredK = new TrustPolicy(SimConfigs.with(Map.of(
                "tandem.audit.trust.tighten-false-alarm-rate", "1")));
        int before = csp2Tightenings(configuredK, 0.02, 100_000, 18);
        double budget = SimConfigs.defaults().trust().tightenFalseAlarmRate() * outputs; // 100
        assertThat(budgeted).as("expected 2,000 rejections x 3.96 %% = 79").isBetween(1, (int) budget);
        assertThat(before).as("k = 5: 2,000 x 9.6 %% = 192, the old rule's false tightenings")
                .isGreaterThan((int) (1.5 * budget));
    }

    @Test
    void aStreamWhosePassedErrorRateRisesIsStillTightenedByCsp2() {
        // passed outputs wrong at 10 % instead of the 2 % allowed: a gap <= 2 follows 19 % of rejections
        for (int seed = 0; seed < 20; seed++) {
            SplittableRandom rng = new SplittableRandom(seed);
            StreamRecord s = passingHalf();
            int reviews = 0;
            TrustUpdate u = null;
            while (s.state() == TrustState.NORMAL && reviews < 1_000) {
                Verdict v = rng.nextDouble() < 0.10 ? Verdict.REJECTED : Verdict.ACCEPTED;
                u = policy.apply(s, v, AuditReason.RANDOM_SAMPLE, 0.95, 1, now);
                s = u.stream();
                reviews++;
            }
            assertThat(s.state()).as("seed %d after %d sampled reviews", seed, reviews).isEqualTo(TrustState.TIGHTENED);
            assertThat(u.changeReason()).contains("CSP-2");
        }
    }

    /** CSP-2 tightenings over {@code reviews} sampled reviews wrong at {@code errorRate}, NORMAL again after each. */
    private int csp2Tightenings(TrustPolicy trust, double errorRate, int reviews, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        StreamRecord start = passingHalf();
        StreamRecord s = start;
        int tightenings = 0;
        for (int i = 0; i < reviews; i++) {
            Verdict v = rng.nextDouble() < errorRate ? Verdict.REJECTED : Verdict.ACCEPTED;
            TrustUpdate u = trust.apply(s, v, AuditReason.RANDOM_SAMPLE, 0.95, 1, now);
            s = u.stream();
            if (s.state() != TrustState.NORMAL) {
                tightenings += u.changeReason().contains("CSP-2") ? 1 : 0;
                s = start;
            }
        }
        return tightenings;
    }

    /** NORMAL at f = 2 % with a certified threshold passing half the outputs; no calibration, so no outcome CUSUM. */
    private StreamRecord passingHalf() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.thresholdPassShare = 0.5;
        b.blockingRate = 0;
        b.calibration = null;
        return b.build();
    }

    @Test
    void normalToReducedAfterACleanSampledRecordWithACertifiedThreshold() {
        StreamRecord s = trusted(TrustState.NORMAL);
        for (int i = 1; i <= 300; i++) {
            TrustUpdate u = policy.apply(s, Verdict.ACCEPTED, AuditReason.RANDOM_SAMPLE, 0.95, 1, now);
            s = u.stream();
            assertThat(s.state()).isEqualTo(i < 300 ? TrustState.NORMAL : TrustState.REDUCED);
        }
        assertThat(s.samplingRate()).isEqualTo(0.01);
    }

    @Test
    void reducedToNormalOnASampledRejection() {
        TrustUpdate u = policy.apply(trusted(TrustState.REDUCED), Verdict.REJECTED, AuditReason.RANDOM_SAMPLE, 0.95,
                1, now);
        assertThat(u.stream().state()).isEqualTo(TrustState.NORMAL);
        assertThat(u.changeReason()).contains("reduced inspection");
        assertThat(u.stream().samplingRate()).isEqualTo(0.02);
        assertThat(u.needsFit()).isFalse();
    }

    @Test
    void tightenedToNormalOnEvidenceAndToSuspendedWhenShownBad() {
        StreamRecord tightened = trusted(TrustState.TIGHTENED);
        StreamRecord s = tightened;
        for (int i = 0; i < 95; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, AuditReason.TIGHTENED, 0.9, 1, now).stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.NORMAL);
        s = tightened;
        for (int i = 0; i < 20; i++) {
            s = policy.apply(s, i % 3 == 0 ? Verdict.REJECTED : Verdict.ACCEPTED, AuditReason.TIGHTENED, 0.9, 1, now)
                    .stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.SUSPENDED);
    }

    @Test
    void suspendedToTightenedAfterACleanRun() {
        StreamRecord s = trusted(TrustState.SUSPENDED);
        for (int i = 1; i <= 50; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, AuditReason.TIGHTENED, 0.9, 1, now).stream();
            assertThat(s.state()).isEqualTo(i < 50 ? TrustState.SUSPENDED : TrustState.TIGHTENED);
        }
    }

    @Test
    void aConfidenceAlarmTightensAtOnceAndRestartsTheWindow() {
        StreamRecord.Builder b = trusted(TrustState.NORMAL).toBuilder();
        b.confidenceReference = 0.42;
        TrustUpdate u = policy.confidenceAlarm(b.build(), 12.5, 900, now);
        assertThat(u.stream().state()).isEqualTo(TrustState.TIGHTENED);
        assertThat(u.driftAlarm()).isEqualTo("confidence");
        assertThat(u.changeReason()).contains("unlabelled confidence").contains("0.4200");
        assertThat(u.stream().windowSinceSeq()).isEqualTo(900);
        assertThat(u.stream().confidenceReference()).isNull();
    }

    @Test
    void aConfiguredTenantGetsItsOwnStreamOthersShare() {
        var cfg = SimConfigs.with(Map.of("tandem.audit.streams.tenant-streams", "acme"));
        assertThat(cfg.streams().tenantStreams().orElseThrow()).containsExactly("acme");
    }

    private StreamRecord trusted(TrustState state) {
        StreamRecord.Builder b = policy.newStream(key(), now).toBuilder();
        b.state = state;
        b.samplingRate = policy.samplingRate(state);
        b.thresholdCertified = true;
        b.rawThreshold = 0.6;
        b.calibration = new CalibrationMap("ISOTONIC", new double[] { 0.0, 1.0 }, new double[] { 0.0, 1.0 }, 100,
                0, 0, 0, 0, 30, now);
        return b.build();
    }

    private static StreamKey key() {
        return new StreamKey("embedded-minilm", "classify", "");
    }
}
