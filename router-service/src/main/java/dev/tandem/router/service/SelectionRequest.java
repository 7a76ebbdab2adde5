package dev.tandem.router.service;

import java.util.List;
import java.util.Set;

import dev.tandem.router.config.ModelTier;

/**
 * What a step asks of its backend.
 *
 * @param minTier              lowest tier allowed, null for none
 * @param latencyTargetMs      p95 target in milliseconds, 0 for none
 * @param budgetUsd            most the step may cost, 0 for none
 * @param estimatedInputTokens input size for cost estimates
 */
public record SelectionRequest(String workerType, List<String> capabilities, int minContextTokens, ModelTier minTier,
                               double latencyTargetMs, List<String> residencyTags, double budgetUsd,
                               Set<String> excludeModels, long estimatedInputTokens) {

    public SelectionRequest {
        capabilities = List.copyOf(capabilities);
        residencyTags = List.copyOf(residencyTags);
        excludeModels = Set.copyOf(excludeModels);
    }

    /** A request for a worker type with no further constraints. */
    public static SelectionRequest of(String workerType, long estimatedInputTokens) {
        return new SelectionRequest(workerType, List.of(), 0, null, 0, List.of(), 0, Set.of(), estimatedInputTokens);
    }

    public SelectionRequest withMinTier(ModelTier tier) {
        return new SelectionRequest(workerType, capabilities, minContextTokens, tier, latencyTargetMs, residencyTags,
                budgetUsd, excludeModels, estimatedInputTokens);
    }
}
