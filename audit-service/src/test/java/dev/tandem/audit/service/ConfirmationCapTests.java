package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.AuditReason;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.simulation.SimConfigs;
import dev.tandem.calibration.CalibrationMap;

/**
 * {@code drift.confirmation-expected-errors} (issue 18): the confirming SPRT ends undecided once H₀ expected k errors
 * among the tightened reviews, about k/p reviews at H₀'s error rate p, so the cap shrinks as the error rate rises,
 * stays at {@code confirmation-max-reviews} where the reviews carry too little information, and does not look at
 * the outcomes.
 */
class ConfirmationCapTests {

    private static final double K = 5;
    private final Instant now = Instant.parse("2026-01-01T00:00:00Z");

    /** Tightened reviews until the confirmation ends, with a rejection every {@code every} reviews. */
    private TrustUpdate confirm(TrustPolicy policy, double p, int every) {
        StreamRecord.Builder b = policy.newStream(new StreamKey("embedded-minilm", "classify", ""), now).toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = policy.samplingRate(TrustState.NORMAL);
        b.thresholdCertified = true;
        b.rawThreshold = 0.6;
        // the identity calibration: raw confidence 1 − p is an expected error of p
        b.calibration = new CalibrationMap("ISOTONIC", new double[] { 0.0, 1.0 }, new double[] { 0.0, 1.0 }, 100, 0, 0,
                0, 0, 30, now);
        b.windowSinceSeq = 100;
        b.outcomeCusum = SimConfigs.defaults().drift().outcomeLimit() - 0.1;
        StreamRecord s = policy.apply(b.build(), Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, 0.9, 5000, now)
                .stream();
        assertThat(TrustPolicy.confirmationPending(s)).isTrue();
        TrustUpdate u = null;
        int reviews = 0;
        while (TrustPolicy.confirmationPending(s)) {
            reviews++;
            Verdict v = reviews % every == 0 ? Verdict.REJECTED : Verdict.ACCEPTED;
            u = policy.apply(s, v, AuditReason.TIGHTENED, 1 - p, 6000, now);
            s = u.stream();
            assertThat(reviews).isLessThanOrEqualTo(10_000);
        }
        return u;
    }

    private int reviewsUntilUndecided(double p, int every) {
        TrustPolicy policy = new TrustPolicy(
                SimConfigs.with(Map.of("tandem.audit.drift.confirmation-expected-errors", String.valueOf(K))));
        TrustUpdate u = confirm(policy, p, every);
        assertThat(u.changeReason()).contains("neither confirmed nor refuted").contains("evidence window kept");
        assertThat(u.stream().windowSinceSeq()).as("the old window is kept").isEqualTo(100);
        return reviewsOf(u);
    }

    private static int reviewsOf(TrustUpdate u) {
        // the reason names the tightened reviews the SPRT saw
        String why = u.changeReason();
        int at = why.indexOf(" tightened reviews");
        int from = why.lastIndexOf(' ', at - 1) + 1;
        return Integer.parseInt(why.substring(from, at));
    }

    @Test
    void theCapIsAboutKOverTheErrorRateAndShrinksAsTheErrorRateRises() {
        // a rejection at H₀'s own rate: the log-likelihood ratio drifts down at (ln 2 − 1)·p per review, so it
        // reaches neither ±ln 20 before H₀ has expected 5 errors (mean −1.5)
        int atHalfPercent = reviewsUntilUndecided(0.005, 200);
        int atTwoPercent = reviewsUntilUndecided(0.02, 50);
        assertThat(atHalfPercent).isEqualTo((int) Math.ceil(K / Math.log(1.005)));
        assertThat(atTwoPercent).isEqualTo((int) Math.ceil(K / Math.log(1.02)));
        assertThat(atTwoPercent).isLessThan(atHalfPercent / 3);
        assertThat(atHalfPercent).as("a third less than the 1,500 cap").isLessThan(1_100);
    }

    @Test
    void whereReviewsCarryTooLittleInformationTheMaximumStillBinds() {
        // at 0.2 % (the expected-error floor) 5 expected errors take 2,500 reviews: the 1,500 cap comes first
        int reviews = reviewsUntilUndecided(0.002, 500);
        assertThat(reviews).isEqualTo(SimConfigs.defaults().drift().confirmationMaxReviews());
    }

    @Test
    void theCapDoesNotLookAtTheOutcomes() {
        // more rejections (one every 150 instead of every 200, both inside the bounds) end at the same review
        assertThat(reviewsUntilUndecided(0.005, 150)).isEqualTo(reviewsUntilUndecided(0.005, 200));
    }

    @Test
    void offByDefaultARealDoublingIsStillConfirmedAndAFalseAlarmRefuted() {
        TrustPolicy shipped = new TrustPolicy(SimConfigs.defaults());
        // at 2 %, a rejection every 25 reviews (the odds doubled): confirmed, the new window stands
        TrustUpdate doubled = confirm(shipped, 0.02, 25);
        assertThat(doubled.changeReason()).isNull();
        assertThat(TrustPolicy.confirmationPending(doubled.stream())).isFalse();
        assertThat(doubled.stream().windowSinceSeq()).isEqualTo(5000);
        // at 0.5 % with H₀'s own rate, the shipped test ends at its 1,500 reviews
        TrustUpdate stationary = confirm(shipped, 0.005, 200);
        assertThat(reviewsOf(stationary)).isEqualTo(1_500);
    }
}
