package dev.tandem.oracle.mapping;

import dev.tandem.audit.policy.PolicyState;
import dev.tandem.proto.audit.v1.Calibration;
import dev.tandem.proto.audit.v1.CalibrationKnot;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamPolicy;
import dev.tandem.proto.audit.v1.TrustState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AuditPolicyProtosTests {

    @Test
    void aPublishedPolicyIsReadAsPublished() {
        var policy = AuditPolicyProtos.fromProto(StreamPolicy.newBuilder()
                .setStream(StreamKey.newBuilder().setWorkerBackend("m").setWorkerType("classify").setTenant("acme"))
                .setPolicyVersion(7).setState(TrustState.TRUST_STATE_REDUCED).setRawConfidenceThreshold(0.61)
                .setThresholdCertified(true).setConfidenceThreshold(0.7).setSamplingRate(0.05).setBlockingRate(0.02)
                .setCalibration(Calibration.newBuilder().addKnots(CalibrationKnot.newBuilder().setRaw(0.2)
                        .setCalibrated(0.1)).addKnots(CalibrationKnot.newBuilder().setRaw(0.9).setCalibrated(1.2)))
                .setCredibleLevel(0.95).setProbationErrorTarget(0.02).setOutgoingErrorTarget(0.01).build());

        assertThat(policy.stream()).isEqualTo("m/classify@acme");
        assertThat(policy.version()).isEqualTo(7);
        assertThat(policy.state()).isEqualTo(PolicyState.REDUCED);
        assertThat(List.of(policy.rawThreshold(), policy.confidenceThreshold(), policy.samplingRate(),
                policy.blockingRate(), policy.credibleLevel(), policy.probationErrorTarget(),
                policy.outgoingErrorTarget())).containsExactly(0.61, 0.7, 0.05, 0.02, 0.95, 0.02, 0.01);
        assertThat(policy.thresholdCertified()).isTrue();
        // not clamped: the audit applies the same numbers
        assertThat(policy.calibration().apply(0.9)).isEqualTo(1.2);
        // an unknown state is never looser than probation
        assertThat(AuditPolicyProtos.state(TrustState.TRUST_STATE_UNSPECIFIED)).isEqualTo(PolicyState.PROBATION);
    }

    @Test
    void aTenantWithoutStreamsOfItsOwnSharesTheStream() {
        var key = StreamKey.newBuilder().setWorkerBackend("m").setWorkerType("t").setTenant("acme").build();
        assertThat(AuditPolicyProtos.streamOf(key, List.of()).getTenant()).isEmpty();
        assertThat(AuditPolicyProtos.streamOf(key, List.of("acme"))).isEqualTo(key);
        assertThat(AuditPolicyProtos.streamOf(key, List.of("*"))).isEqualTo(key);
    }
}
