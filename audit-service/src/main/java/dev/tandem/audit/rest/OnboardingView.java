package dev.tandem.audit.rest;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.tandem.audit.OnboardingEvidence;

/** Body and answer of PUT /api/onboarding, items of GET /api/onboarding. */
public record OnboardingView(
        @JsonProperty("worker_backend") String workerBackend,
        @JsonProperty("worker_type") String workerType,
        String source,
        long items,
        long rejected,
        String detail,
        @JsonProperty("recorded_at") Instant recordedAt) {

    static OnboardingView of(OnboardingEvidence e) {
        return new OnboardingView(e.workerBackend(), e.workerType(), e.source(), e.items(), e.rejected(), e.detail(),
                e.recordedAt());
    }

    OnboardingEvidence toEvidence() {
        return new OnboardingEvidence(workerBackend, workerType, source, items, rejected, detail, null);
    }
}
