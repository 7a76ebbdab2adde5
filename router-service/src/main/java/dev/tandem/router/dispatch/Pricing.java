package dev.tandem.router.dispatch;

import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.proto.worker.v1.WorkflowPhase;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.WorkerPool;

/**
 * What a call costs. Tokens: input x input price + cached input x cached-input price + output x output price,
 * per 1M tokens, from the worker's {@code TokenUsage} (its {@code input_tokens} are the uncached prompt tokens).
 * GPU time, on pools priced by the GPU-second: pool price x GPUs x the worker's model time (its "implement" phase,
 * else its whole latency). A call on a GPU-priced pool pays both parts (self-hosted models usually have token
 * prices of 0). Concurrent calls batched on the same GPUs each pay their full model time, so on a busy pool the GPU
 * part is an upper bound.
 */
public final class Pricing {

    private Pricing() {
    }

    public static double tokenCostUsd(ModelProfile model, TokenUsage usage) {
        return model.costUsd(usage.getInputTokens(), usage.getOutputTokens(), usage.getCachedInputTokens());
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
