package dev.tandem.audit.rest;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.tandem.audit.OnboardingEvidence;

/**
 * Body and answer of PUT /api/onboarding, items of GET /api/onboarding. The items' confidences are optional: with
 * them the audit also prices what a confidence threshold would review (never a certificate).
 */
public record OnboardingView(
        @JsonProperty("worker_backend") String workerBackend,
        @JsonProperty("worker_type") String workerType,
        String source,
        long items,
        long rejected,
        String detail,
        @JsonProperty("recorded_at") Instant recordedAt,
        @JsonProperty("right_confidences") List<Double> rightConfidences,
        @JsonProperty("wrong_confidences") List<Double> wrongConfidences) {

    static OnboardingView of(OnboardingEvidence e) {
        return new OnboardingView(e.workerBackend(), e.workerType(), e.source(), e.items(), e.rejected(), e.detail(),
                e.recordedAt(), e.rightConfidences(), e.wrongConfidences());
    }

    OnboardingEvidence toEvidence() {
        return new OnboardingEvidence(workerBackend, workerType, source, items, rejected, detail, null,
                rightConfidences, wrongConfidences);
    }
}
