package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.AuditReason;
import dev.tandem.audit.OnboardingEvidence;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.simulation.SimConfigs;

/** Onboarding evidence as a discounted prior: what it shortens, what it leaves alone, when it is dropped. */
class OnboardingPriorTests {

    private final TrustPolicy policy = new TrustPolicy(SimConfigs.defaults());
    private final Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final StreamKey key = new StreamKey("small", "classify", "");

    @Test
    void aCleanGoldenSetShortensProbationButNeverBelowTheMinimumOfProductionReviews() {
        // 200 clean golden items at d = 0.5: 100 pseudo-reviews; without them 95 production reviews are needed.
        assertThat(reviewsToClear(Optional.of(evidence(200, 0)), 0)).isEqualTo(20);
        // 60 clean items: 30 pseudo-reviews, so 65 production reviews close the gap to 95.
        assertThat(reviewsToClear(Optional.of(evidence(60, 0)), 0)).isEqualTo(65);
        assertThat(reviewsToClear(Optional.empty(), 0)).isEqualTo(95);
    }

    @Test
    void aGoldenSetWithErrorsHelpsLessOrNotAtAll() {
        // 5 % wrong on the golden set: with the prior the bound stays above 2 %, so production alone clears it, as
        // it would without onboarding (a poor golden result never delays the production rule).
        assertThat(reviewsToClear(Optional.of(evidence(200, 10)), 0)).isEqualTo(95);
        // 1 wrong in 200: half a pseudo-rejection in 100 pseudo-reviews, still a head start.
        assertThat(reviewsToClear(Optional.of(evidence(200, 1)), 0)).isBetween(20, 94);
    }

    @Test
    void theReasonNamesThePriorAndSaysTheCertificateStillRestsOnProduction() {
        StreamRecord s = policy.newStream(key, now);
        TrustUpdate u = null;
        for (int i = 0; i < 20; i++) {
            u = policy.apply(s, Verdict.ACCEPTED, AuditReason.PROBATION, 0.9, 1, now, Optional.of(evidence(200, 0)));
            s = u.stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.NORMAL);
        assertThat(u.changeReason()).contains("onboarding prior").contains("golden-set: 200 items, 0 wrong")
                .contains("counted as 100.0 reviews").contains("production reviews only");
        assertThat(u.needsFit()).isTrue();
        assertThat(s.blockingRate()).as("the blocking sample takes over until production certifies").isEqualTo(1.0);
    }

    @Test
    void productionThatContradictsThePriorDropsIt() {
        var config = SimConfigs.with(Map.of("tandem.audit.onboarding.max-weight", "1000"));
        var strong = Optional.of(evidence(4000, 0));
        // 2 rejections in 20 reviews are all but impossible if the 0 % of 4,000 golden items held: the prior goes.
        assertThat(ClearancePrior.of(strong, 2, 20, config)).isEmpty();
        assertThat(ClearancePrior.of(strong, 0, 20, config)).isPresent();
        StreamRecord.Builder b = new TrustPolicy(config).newStream(key, now).toBuilder();
        b.stateReviewed = 19;
        b.stateRejected = 2;
        b.reviewed = 19;
        b.rejected = 2;
        TrustUpdate u = new TrustPolicy(config).apply(b.build(), Verdict.ACCEPTED, AuditReason.PROBATION, 0.9, 1, now,
                strong);
        assertThat(u.stream().state()).isEqualTo(TrustState.PROBATION);
    }

    @Test
    void thePriorNeverClearsATightenedStream() {
        StreamRecord.Builder b = policy.newStream(key, now).toBuilder();
        b.state = TrustState.TIGHTENED;
        StreamRecord s = b.build();
        for (int i = 0; i < 40; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, AuditReason.TIGHTENED, 0.9, 1, now, Optional.of(evidence(200, 0)))
                    .stream();
        }
        assertThat(s.state()).isEqualTo(TrustState.TIGHTENED);
    }

    @Test
    void thePredictiveTailIsABetaBinomialTail() {
        // Beta(1, 1) makes every count in 0..n equally likely: P(R >= r) = (n - r + 1) / (n + 1).
        assertThat(ClearancePrior.predictiveTail(3, 9, 1, 1)).isCloseTo(0.7, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(ClearancePrior.predictiveTail(0, 9, 1, 1)).isEqualTo(1.0);
    }

    private int reviewsToClear(Optional<OnboardingEvidence> onboarding, int rejectEvery) {
        StreamRecord s = policy.newStream(key, now);
        for (int i = 1; i <= 400; i++) {
            s = policy.apply(s, Verdict.ACCEPTED, AuditReason.PROBATION, 0.9, 1, now, onboarding).stream();
            if (s.state() == TrustState.NORMAL) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }

    private OnboardingEvidence evidence(long items, long wrong) {
        return new OnboardingEvidence("small", "classify", "golden-set", items, wrong, "", now);
    }
}
