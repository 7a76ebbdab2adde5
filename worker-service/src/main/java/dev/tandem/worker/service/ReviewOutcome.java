package dev.tandem.worker.service;

import dev.tandem.models.chat.TokenUsage;

/** A reviewer's verdict with its own answer for the step. */
public record ReviewOutcome(boolean accepted, String reason, String reviewerOutput, double confidence,
                            TokenUsage usage, double latencyMs, String modelId) {
}
