package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;

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

class AuditPolicyTests {

    private final AuditPolicy policy = new AuditPolicy(TestConfigs.defaults());
    private final StreamKey key = new StreamKey("embedded-minilm", "extract", "");

    @Test
    void probationReviewsEverythingBlocking() {
        Decision d = policy.decide(request("d1", 0.99, true), stream(TrustState.PROBATION, 1.0));
        assertThat(d.action()).isEqualTo(AuditAction.REVIEW);
        assertThat(d.reason()).isEqualTo(AuditReason.PROBATION);
        assertThat(d.mode()).isEqualTo(ReviewMode.BLOCKING);
        assertThat(d.samplingProbability()).isEqualTo(1.0);
        assertThat(d.explanation()).contains("probation");
    }

    @Test
    void tightenedAndSuspendedReviewEverythingBlocking() {
        for (TrustState state : new TrustState[] { TrustState.TIGHTENED, TrustState.SUSPENDED }) {
            Decision d = policy.decide(request("d1", 0.99, true), stream(state, 1.0));
            assertThat(d.reason()).isEqualTo(AuditReason.TIGHTENED);
            assertThat(d.mode()).isEqualTo(ReviewMode.BLOCKING);
        }
    }

    @Test
    void failedValidationAndLowConfidenceAreReviewedBlockingInATrustedStream() {
        Decision invalid = policy.decide(request("d1", 0.99, false), stream(TrustState.NORMAL, 0.1));
        assertThat(invalid.reason()).isEqualTo(AuditReason.VALIDATION_FAILED);
        assertThat(invalid.mode()).isEqualTo(ReviewMode.BLOCKING);

        Decision unsure = policy.decide(request("d2", 0.69, true), stream(TrustState.REDUCED, 0.03));
        assertThat(unsure.reason()).isEqualTo(AuditReason.LOW_CONFIDENCE);
        assertThat(unsure.mode()).isEqualTo(ReviewMode.BLOCKING);
        assertThat(unsure.confidenceThreshold()).isEqualTo(0.7);
        assertThat(unsure.explanation()).contains("0.690").contains("0.700");
    }

    @Test
    void confidentOutputsAreSampledAtTheStateRateDeterministically() {
        StreamRecord normal = stream(TrustState.NORMAL, 0.10);
        int sampled = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            Decision d = policy.decide(request("task-" + i + "/step/1", 0.9, true), normal);
            assertThat(d.samplingProbability()).isEqualTo(0.10);
            if (d.action() == AuditAction.REVIEW) {
                assertThat(d.reason()).isEqualTo(AuditReason.RANDOM_SAMPLE);
                assertThat(d.mode()).isEqualTo(ReviewMode.SHADOW);
                sampled++;
            } else {
                assertThat(d.reason()).isEqualTo(AuditReason.TRUSTED);
                assertThat(d.mode()).isEqualTo(ReviewMode.NONE);
            }
        }
        assertThat((double) sampled / n).isBetween(0.09, 0.11);
        for (int i = 0; i < 100; i++) {
            String id = "retry-" + i;
            assertThat(policy.decide(request(id, 0.9, true), normal).action())
                    .isEqualTo(policy.decide(request(id, 0.9, true), normal).action());
        }
    }

    @Test
    void theDrawDependsOnTheSeed() {
        int differing = 0;
        for (int i = 0; i < 100; i++) {
            if (SamplingDraw.uniform("a", "id-" + i) != SamplingDraw.uniform("b", "id-" + i)) {
                differing++;
            }
            assertThat(SamplingDraw.uniform("a", "id-" + i)).isGreaterThanOrEqualTo(0.0).isLessThan(1.0);
        }
        assertThat(differing).isEqualTo(100);
    }

    private DecisionRequest request(String id, double confidence, boolean valid) {
        return new DecisionRequest(id, "task", "step", key, confidence, confidence, valid);
    }

    private StreamRecord stream(TrustState state, double rate) {
        return new StreamRecord(key, state, 0, 0, 0, 0, 0, 0, 0, "", rate, 0.7, 1.0, Instant.now(), 0);
    }
}
