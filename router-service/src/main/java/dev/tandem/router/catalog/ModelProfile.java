package dev.tandem.router.catalog;

import java.util.Set;

import dev.tandem.router.config.ModelTier;

/**
 * One model of the catalog with its prices and hard properties.
 *
 * @param workerTypes           worker types the model may serve; empty for all
 * @param batchInputUsdPerMtok  input price through the provider's batch API; NaN when the model offers no batch path
 * @param batchOutputUsdPerMtok output price through the batch API; NaN when the model offers no batch path
 */
public record ModelProfile(String id, ModelTier tier, double inputUsdPerMtok, double outputUsdPerMtok,
                           double cachedInputUsdPerMtok, Set<String> capabilities, int contextTokens,
                           Set<String> residencyTags, Set<String> workerTypes, double priorQuality,
                           QualityEstimate prior, double batchInputUsdPerMtok, double batchOutputUsdPerMtok) {

    public ModelProfile {
        capabilities = Set.copyOf(capabilities);
        residencyTags = Set.copyOf(residencyTags);
        workerTypes = Set.copyOf(workerTypes);
        prior = QualityEstimate.prior(priorQuality);
    }

    public ModelProfile(String id, ModelTier tier, double inputUsdPerMtok, double outputUsdPerMtok,
                        double cachedInputUsdPerMtok, Set<String> capabilities, int contextTokens,
                        Set<String> residencyTags, Set<String> workerTypes, double priorQuality,
                        QualityEstimate prior) {
        this(id, tier, inputUsdPerMtok, outputUsdPerMtok, cachedInputUsdPerMtok, capabilities, contextTokens,
                residencyTags, workerTypes, priorQuality, prior, Double.NaN, Double.NaN);
    }

    public ModelProfile(String id, ModelTier tier, double inputUsdPerMtok, double outputUsdPerMtok,
                        double cachedInputUsdPerMtok, Set<String> capabilities, int contextTokens,
                        Set<String> residencyTags, Set<String> workerTypes, double priorQuality) {
        this(id, tier, inputUsdPerMtok, outputUsdPerMtok, cachedInputUsdPerMtok, capabilities, contextTokens,
                residencyTags, workerTypes, priorQuality, null);
    }

    /** The same model offering a batch path at these prices per 1M tokens. */
    public ModelProfile withBatchPrices(double input, double output) {
        return new ModelProfile(id, tier, inputUsdPerMtok, outputUsdPerMtok, cachedInputUsdPerMtok, capabilities,
                contextTokens, residencyTags, workerTypes, priorQuality, prior, input, output);
    }

    /** Whether the model offers a batch path (its catalog entry has batch prices). */
    public boolean offersBatch() {
        return !Double.isNaN(batchInputUsdPerMtok) && !Double.isNaN(batchOutputUsdPerMtok);
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

    /**
     * Price of the token usage on this model's batch path when {@code batch} and the model offers one (cached input
     * at the lower of the cached-input and batch-input prices: providers stack the discounts), else at
     * {@link #costUsd(long, long, long) its interactive prices}.
     */
    public double costUsd(long inputTokens, long outputTokens, long cachedInputTokens, boolean batch) {
        if (!batch || !offersBatch()) {
            return costUsd(inputTokens, outputTokens, cachedInputTokens);
        }
        return (inputTokens * batchInputUsdPerMtok + outputTokens * batchOutputUsdPerMtok
                + cachedInputTokens * Math.min(cachedInputUsdPerMtok, batchInputUsdPerMtok)) / 1_000_000d;
    }
}
