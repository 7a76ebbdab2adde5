package dev.tandem.router.learning;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.tandem.proto.audit.v1.OnboardingOutlook;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.TrustState;

/** How an audit stream reads as an outlook: which streams are still earning trust. */
class StreamOutlooksTests {

    private static StreamStatus.Builder normal(double blocking, double sampling) {
        return StreamStatus.newBuilder().setWorkerBackend("small").setWorkerType("classify")
                .setState(TrustState.TRUST_STATE_NORMAL).setReviewed(40).setBlockingSampleRate(blocking)
                .setSamplingRate(sampling).setReviewProbability(0.9).setBlockingProbability(0.88)
                .setProjectedReviewProbability(0.1).setProjectionSamples(40);
    }

    @Test
    void aTrustedStreamWhoseBlockingSampleIsAboveItsSamplingRateIsStillBuildingUp() {
        StreamOutlooks.Outlook o = StreamOutlooks.of(normal(0.88, 0.1).build());
        assertThat(o.trusted()).isTrue();
        assertThat(o.buildingUp()).isTrue();
        assertThat(o.earningTrust()).isTrue();
        assertThat(o.state()).isEqualTo("normal (building up)");
    }

    @Test
    void aTrustedStreamSampledAtItsRateIsNotEarningTrust() {
        StreamOutlooks.Outlook o = StreamOutlooks.of(normal(0.0, 0.02).build());
        assertThat(o.buildingUp()).isFalse();
        assertThat(o.earningTrust()).isFalse();
        assertThat(o.state()).isEqualTo("normal");
    }

    @Test
    void probationIsEarningTrustWhateverItsRates() {
        StreamOutlooks.Outlook o = StreamOutlooks.of(normal(0, 1).setState(TrustState.TRUST_STATE_PROBATION).build());
        assertThat(o.earningTrust()).isTrue();
        assertThat(o.buildingUp()).isFalse();
        assertThat(o.reviewProbability()).isEqualTo(1.0);
    }

    @Test
    void aStreamNotSeenYetCarriesItsBackendsOnboardingEvidenceAndAListedStreamItsOwn() {
        StreamOutlooks outlooks = new StreamOutlooks();
        OnboardingOutlook evidence = OnboardingOutlook.newBuilder()
                .setKey(StreamKey.newBuilder().setWorkerBackend("small").setWorkerType("solve"))
                .setSource("golden-set").setItems(200).setRejected(56).setPriorWeight(100).setErrorRate(0.28)
                .setTargetErrorRate(0.01).setProjectedReviewProbability(0.965).setThresholdPassShare(0.4)
                .setThreshold(0.8).build();
        StreamStatus listed = normal(0, 1).setState(TrustState.TRUST_STATE_PROBATION).setWorkerType("solve")
                .setWorkerBackend("other").setOnboarding(evidence.toBuilder().setProductionReviewed(10)
                        .setProductionRejected(3).setErrorRate(31.0 / 110)).build();

        outlooks.replaceAll(java.util.List.of(listed), java.util.List.of(evidence));

        StreamOutlooks.Outlook unseen = outlooks.get("solve", "small", "acme");
        assertThat(unseen.state()).isEqualTo("probation");
        assertThat(unseen.reviewed()).isZero();
        assertThat(unseen.onboarding().errorRate()).isEqualTo(0.28);
        assertThat(unseen.onboarding().evidence()).isEqualTo(100.0);
        assertThat(unseen.onboarding().thresholdPassShare()).isEqualTo(0.4);
        assertThat(unseen.onboarding().threshold()).isEqualTo(0.8);
        StreamOutlooks.Outlook seen = outlooks.get("solve", "other", "");
        assertThat(seen.onboarding().productionReviewed()).isEqualTo(10);
        assertThat(seen.onboarding().evidence()).isEqualTo(110.0);
        assertThat(outlooks.get("solve", "third", "").onboarding()).isNull();
    }
}
