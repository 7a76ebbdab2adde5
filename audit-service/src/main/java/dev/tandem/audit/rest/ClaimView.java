package dev.tandem.audit.rest;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Body of POST /api/review-tasks/claim. */
public record ClaimView(
        String reviewer,
        String queue,
        @JsonProperty("max_tasks") int maxTasks,
        @JsonProperty("lease_seconds") int leaseSeconds,
        @JsonProperty("decision_id") String decisionId) {
}
