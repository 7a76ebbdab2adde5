package dev.tandem.router.learning;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

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
}
