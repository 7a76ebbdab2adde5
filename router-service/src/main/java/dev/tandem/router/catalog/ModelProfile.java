package dev.tandem.router.catalog;

import java.util.Set;

import dev.tandem.router.config.ModelTier;

/**
 * One model of the catalog with its prices and hard properties.
 *
 * @param workerTypes worker types the model may serve; empty for all
 */
public record ModelProfile(String id, ModelTier tier, double inputUsdPerMtok, double outputUsdPerMtok,
                           double cachedInputUsdPerMtok, Set<String> capabilities, int contextTokens,
                           Set<String> residencyTags, Set<String> workerTypes, double priorQuality,
                           QualityEstimate prior) {

    public ModelProfile {
        capabilities = Set.copyOf(capabilities);
        residencyTags = Set.copyOf(residencyTags);
        workerTypes = Set.copyOf(workerTypes);
        prior = QualityEstimate.prior(priorQuality);
    }

    public ModelProfile(String id, ModelTier tier, double inputUsdPerMtok, double outputUsdPerMtok,
                        double cachedInputUsdPerMtok, Set<String> capabilities, int contextTokens,
                        Set<String> residencyTags, Set<String> workerTypes, double priorQuality) {
        this(id, tier, inputUsdPerMtok, outputUsdPerMtok, cachedInputUsdPerMtok, capabilities, contextTokens,
                residencyTags, workerTypes, priorQuality, null);
    }

    public boolean servesWorkerType(String workerType) {
        return workerTypes.isEmpty() || workerTypes.contains(workerType);
    }

    /**
     * Price of the given token usage on this model, in USD. {@code inputTokens} are the uncached prompt tokens;
     * cached prompt tokens are billed at the cached-input price.
     */
    public double costUsd(long inputTokens, long outputTokens, long cachedInputTokens) {
        return (inputTokens * inputUsdPerMtok + outputTokens * outputUsdPerMtok
                + cachedInputTokens * cachedInputUsdPerMtok) / 1_000_000d;
    }
}
