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
