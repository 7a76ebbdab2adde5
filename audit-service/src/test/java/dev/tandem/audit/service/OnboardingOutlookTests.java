package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.OnboardingEvidence;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.simulation.SimConfigs;

/** What onboarding evidence says a stream will cost in reviews once trusted, and when production takes over. */
class OnboardingOutlookTests {

    private final AuditConfig config = SimConfigs.defaults();
    private final double normal = config.sampling().normalRate();
    private final StreamKey key = new StreamKey("mixtral", "solve", "");

    @Test
    void aGoldenSetWithAnErrorRateAboveTheTrustTargetProjectsEveryOutputReviewed() {
        // 56 of 200 wrong: 28 %, above the probation clearance's 2 x A at A = 1, 5 and 10 %: probation for good
        OnboardingOutlook o = outlook(evidence(200, 56), 0, 0, 0.01).orElseThrow();
        assertThat(o.errorRate()).isCloseTo(0.28, within(1e-12));
        assertThat(o.weight()).isEqualTo(100.0);
        assertThat(o.targetErrorRate()).isEqualTo(0.01);
        assertThat(o.projectedReviewProbability()).isEqualTo(1.0);
        assertThat(outlook(evidence(200, 56), 0, 0, 0.10).orElseThrow().projectedReviewProbability()).isEqualTo(1.0);
    }

    @Test
    void underTheTrustTargetTheBlockingShareIsWhatHoldsTheOutgoingErrorAtA() {
        // 28 % at A = 25 %: trusted once cleared (under 50 %), and 1 - 0.25 / 0.28 of the outputs held
        OnboardingOutlook o = outlook(evidence(200, 56), 0, 0, 0.25).orElseThrow();
        double blocking = 1 - 0.25 / 0.28;
        assertThat(o.projectedReviewProbability()).isCloseTo(blocking + (1 - blocking) * normal, within(1e-12));
    }

    @Test
    void aCleanGoldenSetProjectsOnlyTheSamplingRate() {
        OnboardingOutlook o = outlook(evidence(200, 0), 0, 0, 0.01).orElseThrow();
        assertThat(o.errorRate()).isZero();
        assertThat(o.projectedReviewProbability()).isEqualTo(normal);
        // 1 % wrong at A = 5 %: under the target, nothing beyond sampling
        assertThat(outlook(evidence(200, 2), 0, 0, 0.05).orElseThrow().projectedReviewProbability())
                .isEqualTo(normal);
    }

    @Test
    void productionReviewsTakeOverAsTheyOutnumberTheDiscountedEvidence() {
        // 20 % wrong on 200 items (100 pseudo-reviews) and 12 of 60 production reviews rejected: still 20 %
        assertThat(outlook(evidence(200, 40), 12, 60, 0.01).orElseThrow().errorRate()).isCloseTo(0.2, within(1e-12));
        // the same evidence with 400 production reviews at 16 %: (64 + 20) / (400 + 100)
        OnboardingOutlook o = outlook(evidence(200, 40), 64, 400, 0.01).orElseThrow();
        assertThat(o.errorRate()).isCloseTo(84.0 / 500, within(1e-12));
        assertThat(o.productionReviewed()).isEqualTo(400);
        assertThat(o.productionRejected()).isEqualTo(64);
    }

    @Test
    void productionThatContradictsTheEvidenceEitherWayDropsIt() {
        // 28 % wrong on the golden set, 0 of 40 in production: too few rejections under the evidence, so it goes
        assertThat(outlook(evidence(200, 56), 0, 40, 0.01)).isEmpty();
        assertThat(outlook(evidence(200, 56), 11, 40, 0.01)).isPresent();
        // clean on the golden set, 8 of 40 in production: too many
        assertThat(outlook(evidence(200, 0), 8, 40, 0.01)).isEmpty();
        assertThat(outlook(Optional.empty(), 0, 0, 0.01)).isEmpty();
    }

    @Test
    void confidencesThatSeparateTheErrorsProjectTheThresholdsReviewShare() {
        // the offline default's classify: 16 of 200 wrong (8 %), above the 2 % trust target at A = 1 %, but every
        // wrong item less confident than every right one: a threshold passes the 184 right items and the most
        // confident wrong one, (1 + 1/2) / 201 = 0.75 % <= A (a second wrong one would be 1.24 %)
        OnboardingEvidence e = scored(184, 0.55, 0.99, 16, 0.20, 0.50);
        OnboardingOutlook o = outlook(e, 0, 0, 0.01).orElseThrow();

        assertThat(o.errorRate()).isCloseTo(0.08, within(1e-12));
        assertThat(o.thresholdPassShare()).isCloseTo(0.925, within(1e-12));
        assertThat(o.threshold()).isCloseTo(0.50, within(1e-12));
        assertThat(o.projectedReviewProbability()).isCloseTo(0.075 + 0.925 * normal, within(1e-12));
        // the same counts without the confidences: every output reviewed for good
        assertThat(outlook(evidence(200, 16), 0, 0, 0.01).orElseThrow().projectedReviewProbability()).isEqualTo(1.0);
        assertThat(outlook(evidence(200, 16), 0, 0, 0.01).orElseThrow().thresholdPassShare()).isZero();
    }

    @Test
    void aThresholdIsPricedOnlyWhereItsOutgoingErrorOnTheItemsIsWithinA() {
        // wrong items as confident as the right ones: any threshold passing half the items passes about 4 wrong
        // of 200, (4 + 1/2) / 201 = 2.2 % > A = 1 %: no threshold, the error rate's rule stands
        OnboardingEvidence mixed = scored(184, 0.10, 0.99, 16, 0.12, 0.98);
        OnboardingOutlook o = outlook(mixed, 0, 0, 0.01).orElseThrow();
        assertThat(o.thresholdPassShare()).isZero();
        assertThat(o.projectedReviewProbability()).isEqualTo(1.0);

        // a wrong item more confident than every right one costs the threshold nothing at A = 1 %: 0.75 %
        OnboardingEvidence oneHigh = new OnboardingEvidence("mixtral", "solve", "golden-set", 200, 16, "",
                Instant.parse("2026-01-01T00:00:00Z"), spread(184, 0.55, 0.99),
                java.util.stream.Stream.concat(java.util.stream.Stream.of(0.995), spread(15, 0.2, 0.5).stream())
                        .toList());
        assertThat(outlook(oneHigh, 0, 0, 0.01).orElseThrow().thresholdPassShare()).isCloseTo(0.925, within(1e-12));
        assertThat(outlook(oneHigh, 0, 0, 0.01).orElseThrow().threshold()).isCloseTo(0.55, within(1e-12));
    }

    @Test
    void aStreamTheErrorRateKeepsInProbationNeedsAThresholdPassingTheClearanceShare() {
        // 60 % wrong, the right items the most confident: a clean threshold passes only 40 %, under the 50 % a
        // certified threshold needs to clear probation, so the stream would still be reviewed in full
        OnboardingEvidence e = scored(80, 0.6, 0.99, 120, 0.05, 0.5);
        assertThat(outlook(e, 0, 0, 0.05).orElseThrow().projectedReviewProbability()).isEqualTo(1.0);
        assertThat(outlook(e, 0, 0, 0.05).orElseThrow().thresholdPassShare()).isZero();
    }

    private static OnboardingEvidence scored(int right, double rightLow, double rightHigh, int wrong, double wrongLow,
            double wrongHigh) {
        return new OnboardingEvidence("mixtral", "solve", "golden-set", right + wrong, wrong, "",
                Instant.parse("2026-01-01T00:00:00Z"), spread(right, rightLow, rightHigh),
                spread(wrong, wrongLow, wrongHigh));
    }

    /** n confidences evenly from low to high. */
    private static java.util.List<Double> spread(int n, double low, double high) {
        return java.util.stream.IntStream.range(0, n).mapToObj(i -> n == 1 ? low : low + (high - low) * i / (n - 1))
                .toList();
    }

    private Optional<OnboardingOutlook> outlook(OnboardingEvidence e, long rejected, long reviewed, double target) {
        return outlook(Optional.of(e), rejected, reviewed, target);
    }

    private Optional<OnboardingOutlook> outlook(Optional<OnboardingEvidence> e, long rejected, long reviewed,
            double target) {
        return OnboardingOutlook.of(key, e, rejected, reviewed, target, config);
    }

    private static OnboardingEvidence evidence(long items, long wrong) {
        return new OnboardingEvidence("mixtral", "solve", "golden-set", items, wrong, "",
                Instant.parse("2026-01-01T00:00:00Z"));
    }
}
