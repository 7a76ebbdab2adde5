package dev.tandem.router.dispatch;

import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.proto.worker.v1.WorkflowPhase;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.WorkerPool;

/**
 * What a call costs. Tokens: the cost the worker reports ({@code reported_cost_usd}: a provider's own bill, a
 * recording's {@code cost_usd}) when there is one, else input x input price + cached input x cached-input price +
 * output x output price, per 1M tokens, from the worker's {@code TokenUsage} (its {@code input_tokens} are the
 * uncached prompt tokens).
 * GPU time, on pools priced by the GPU-second: pool price x GPUs x the worker's model time (its "implement" phase,
 * else its whole latency). A call on a GPU-priced pool pays both parts (self-hosted models usually have token
 * prices of 0). Concurrent calls batched on the same GPUs each pay their full model time, so on a busy pool the GPU
 * part is an upper bound.
 */
public final class Pricing {

    private Pricing() {
    }

    /**
     * What a call on this model cost: the reported cost when there is one, else the tokens at catalog prices (batch
     * prices when the worker sent the call through the model's batch path). A reported cost of a batch-path call (a
     * replayed recording's interactive cost) is scaled by the model's batch discount for those tokens.
     */
    public static double tokenCostUsd(ModelProfile model, TokenUsage usage) {
        if (usage.hasReportedCostUsd()) {
            return usage.getReportedCostUsd() * batchScale(model, usage);
        }
        return model.costUsd(usage.getInputTokens(), usage.getOutputTokens(), usage.getCachedInputTokens(),
                usage.getBatch());
    }

    /**
     * What batching saved on a call: what it would have cost interactively (the tokens at the model's interactive
     * prices, or the reported cost) minus what it cost; 0 when it did not go through a batch path.
     */
    public static double batchDiscountUsd(ModelProfile model, TokenUsage usage) {
        if (!usage.getBatch() || !model.offersBatch()) {
            return 0;
        }
        double interactive = usage.hasReportedCostUsd() ? usage.getReportedCostUsd() : catalogCostUsd(model, usage);
        return Math.max(0, interactive - tokenCostUsd(model, usage));
    }

    /** The batch price of the call's tokens over their interactive price: 1 unless it took a batch path. */
    private static double batchScale(ModelProfile model, TokenUsage usage) {
        if (!usage.getBatch() || !model.offersBatch()) {
            return 1;
        }
        double interactive = catalogCostUsd(model, usage);
        return interactive > 0 ? model.costUsd(usage.getInputTokens(), usage.getOutputTokens(),
                usage.getCachedInputTokens(), true) / interactive : 1;
    }

    /**
     * The tokens at the model's interactive catalog prices, whatever the worker reports (what another model would
     * charge).
     */
    public static double catalogCostUsd(ModelProfile model, TokenUsage usage) {
        return model.costUsd(usage.getInputTokens(), usage.getOutputTokens(), usage.getCachedInputTokens());
    }

    /**
     * The oracle baseline of a step whose output the given model produced with this usage: the same tokens at the
     * oracle's prices, or, when the oracle model itself produced it, what that call really cost (so an all-oracle
     * run costs exactly its baseline, reported costs included).
     */
    public static double oracleBaselineUsd(ModelProfile oracle, String producedBy, TokenUsage usage) {
        // a batch call's baseline is the oracle's interactive price: the all-oracle run the batch discount is against
        if (!oracle.id().equals(producedBy)) {
            return catalogCostUsd(oracle, usage);
        }
        return !usage.getBatch() ? tokenCostUsd(oracle, usage)
                : usage.hasReportedCostUsd() ? usage.getReportedCostUsd() : catalogCostUsd(oracle, usage);
    }

    public static double gpuCostUsd(WorkerPool pool, double modelSeconds) {
        return pool.gpuPriced() ? pool.gpuCostUsd(modelSeconds) : 0;
    }

    /** Model time of a step: the worker's "implement" phase, else its whole latency, in seconds. */
    public static double modelSeconds(ExecuteStepResponse response) {
        for (WorkflowPhase phase : response.getPhasesList()) {
            if (phase.getName().equals("implement")) {
                return phase.getDurationMs() / 1000;
            }
        }
        return response.getLatencyMs() / 1000;
    }
}
