package dev.tandem.worker.service;

/** A reviewer's verdict with its own answer for the step. */
public record ReviewOutcome(boolean accepted, String reason, String reviewerOutput, double confidence,
                            long inputTokens, long outputTokens, double latencyMs, String modelId) {
}
