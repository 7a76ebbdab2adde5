package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.simulation.SimConfigs;

class AuditPolicyTests {

    private final AuditConfig config = SimConfigs.defaults();
    private final AuditPolicy policy = new AuditPolicy(config);
    private final TrustPolicy trust = new TrustPolicy(config);
    private final StreamKey key = new StreamKey("embedded-minilm", "extract", "");

    @Test
    void probationTightenedAndSuspendedReviewEverythingBlockingAndAreCertificationSamples() {
        for (TrustState state : TrustState.values()) {
            if (!state.reviewsEverything()) {
                continue;
            }
            Decision d = policy.decide(request("d1", 0.99, true), stream(state, 0.5, 0));
            assertThat(d.action()).isEqualTo(AuditAction.REVIEW);
            assertThat(d.reason()).isEqualTo(state == TrustState.PROBATION ? AuditReason.PROBATION
                    : AuditReason.TIGHTENED);
            assertThat(d.mode()).isEqualTo(ReviewMode.BLOCKING);
            assertThat(d.samplingProbability()).isEqualTo(1.0);
            assertThat(d.blockingProbability()).isEqualTo(1.0);
            assertThat(d.certificationSample()).isTrue();
        }
    }

    @Test
    void validationFailuresAndLowRawConfidenceAreReviewedBlocking() {
        StreamRecord normal = stream(TrustState.NORMAL, 0.6, 0);
        Decision invalid = policy.decide(request("d2", 0.99, false), normal);
        assertThat(invalid.reason()).isEqualTo(AuditReason.VALIDATION_FAILED);
        assertThat(invalid.mode()).isEqualTo(ReviewMode.BLOCKING);
        Decision unsure = policy.decide(request("d3", 0.59, true), normal);
        assertThat(unsure.reason()).isEqualTo(AuditReason.LOW_CONFIDENCE);
        assertThat(unsure.samplingProbability()).isEqualTo(1.0);
        assertThat(unsure.explanation()).contains("raw confidence 0.5900").contains("threshold 0.6000");
    }

    @Test
    void confidentOutputsAreSampledInShadowAtTheStateRateAndRecordTheirProbability() {
        StreamRecord normal = stream(TrustState.NORMAL, 0.6, 0);
        int shadow = 0;
        int certification = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            Decision d = policy.decide(request("c" + i, 0.9, true), normal);
            assertThat(d.samplingProbability()).isEqualTo(0.02);
            assertThat(d.blockingProbability()).isZero();
            if (d.action() == AuditAction.REVIEW) {
                assertThat(d.reason()).isEqualTo(AuditReason.RANDOM_SAMPLE);
                assertThat(d.mode()).isEqualTo(ReviewMode.SHADOW);
                assertThat(d.certificationSample()).isTrue();
                shadow++;
            } else {
                assertThat(d.reason()).isEqualTo(AuditReason.TRUSTED);
                assertThat(d.certificationSample()).isFalse();
            }
            certification += d.certificationSample() ? 1 : 0;
        }
        assertThat((double) shadow / n).isCloseTo(0.02, within(0.004));
        assertThat(certification).isEqualTo(shadow);
    }

    @Test
    void aBlockingSampleRateAboveTheFloorReviewsThatShareBeforeRelease() {
        StreamRecord normal = stream(TrustState.NORMAL, 0.6, 0.3);
        int blocking = 0;
        int shadow = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            Decision d = policy.decide(request("b" + i, 0.9, true), normal);
            assertThat(d.samplingProbability()).isEqualTo(0.3);
            assertThat(d.blockingProbability()).isEqualTo(0.3);
            if (d.reason() == AuditReason.OUTGOING_LIMIT) {
                assertThat(d.mode()).isEqualTo(ReviewMode.BLOCKING);
                blocking++;
            } else if (d.mode() == ReviewMode.SHADOW) {
                shadow++;
            }
        }
        assertThat((double) blocking / n).isCloseTo(0.3, within(0.015));
        assertThat(shadow).as("the blocking sample already covers the 2 % floor").isZero();
    }

    @Test
    void everyOutputTheUniformDrawReviewsIsCertificationEvidenceWhateverItsConfidence() {
        // b = 0.3 above f = 0.02: the draw u < 0.3 reviews confident outputs blocking and low-confidence ones anyway;
        // all of them (and only them) are the certification sample, so the reviews b pays for count as evidence.
        StreamRecord normal = stream(TrustState.NORMAL, 0.6, 0.3);
        int n = 20_000;
        int certification = 0;
        int lowCertification = 0;
        int low = 0;
        for (int i = 0; i < n; i++) {
            double raw = i % 4 == 0 ? 0.4 : 0.9;
            Decision d = policy.decide(request("e" + i, raw, true), normal);
            boolean drawn = d.reason() == AuditReason.OUTGOING_LIMIT;
            if (raw < 0.6) {
                low++;
                lowCertification += d.certificationSample() ? 1 : 0;
            } else {
                assertThat(d.certificationSample()).isEqualTo(drawn);
            }
            certification += d.certificationSample() ? 1 : 0;
        }
        assertThat((double) certification / n).isCloseTo(0.3, within(0.015));
        assertThat((double) lowCertification / low).as("the draw ignores confidence").isCloseTo(0.3, within(0.03));
    }

    @Test
    void aRetriedDecisionGetsTheSameAnswer() {
        StreamRecord normal = stream(TrustState.NORMAL, 0.6, 0);
        for (int i = 0; i < 200; i++) {
            assertThat(policy.decide(request("r" + i, 0.9, true), normal))
                    .isEqualTo(policy.decide(request("r" + i, 0.9, true), normal));
        }
    }

    private StreamRecord stream(TrustState state, double rawThreshold, double blocking) {
        StreamRecord.Builder b = trust.newStream(key, Instant.EPOCH).toBuilder();
        b.state = state;
        b.samplingRate = trust.samplingRate(state);
        b.rawThreshold = rawThreshold;
        b.confidenceThreshold = rawThreshold;
        b.blockingRate = blocking;
        return b.build();
    }

    private DecisionRequest request(String id, double raw, boolean valid) {
        return new DecisionRequest(id, "t", "s", key, raw, raw, valid);
    }
}
