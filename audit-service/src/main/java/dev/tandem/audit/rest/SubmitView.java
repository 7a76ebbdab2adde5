package dev.tandem.audit.rest;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Answer of POST /api/review-tasks/verdict: whether it was a retry, and the stream after it. */
public record SubmitView(boolean duplicate, StreamView stream) {

    /** Body of POST /api/review-tasks/verdict. */
    public record Request(
            @JsonProperty("decision_id") String decisionId,
            @JsonProperty("claim_token") String claimToken,
            String verdict,
            String reviewer,
            String reason,
            @JsonProperty("reviewer_output") String reviewerOutput) {
    }
}
