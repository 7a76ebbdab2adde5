package dev.tandem.router.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.tandem.proto.worker.v1.ExecuteStepResponse;

/** The raw confidence the router calibrates, from workers that send raw_confidence and from those of the first v1. */
@SuppressWarnings("deprecation") // workers of the first v1 set the deprecated confidence field
class WorkerRawConfidenceTests {

    @Test
    void aWorkerReportsItsRawConfidenceOnly() {
        assertThat(CascadeCheck.rawConfidence(ExecuteStepResponse.newBuilder().setRawConfidence(0.7).build()))
                .isEqualTo(0.7);
    }

    @Test
    void aWorkerOfTheFirstV1SendingBothOrOnlyTheDeprecatedFieldIsReadTheSame() {
        assertThat(CascadeCheck.rawConfidence(ExecuteStepResponse.newBuilder().setConfidence(0.7)
                .setRawConfidence(0.7).build())).isEqualTo(0.7);
        assertThat(CascadeCheck.rawConfidence(ExecuteStepResponse.newBuilder().setConfidence(0.7).build()))
                .isEqualTo(0.7);
    }

    @Test
    void aRawConfidenceOfZeroIsZero() {
        assertThat(CascadeCheck.rawConfidence(ExecuteStepResponse.getDefaultInstance())).isZero();
    }
}
