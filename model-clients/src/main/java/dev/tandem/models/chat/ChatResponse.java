package dev.tandem.models.chat;

import java.time.Duration;
import java.util.List;

/**
 * What a model answered.
 *
 * @param text                 the answer text; with a response schema, the JSON document
 * @param finishReason         why generation stopped
 * @param providerFinishReason the provider's own string for it, for logs
 * @param usage                token usage, normalised for billing
 * @param logprobs             per-token log probabilities of {@code text} when asked for and supported, else empty
 * @param latency              wall-clock time of the call as the client measured it
 * @param providerModel        the model name the provider reports having used
 */
public record ChatResponse(String text, FinishReason finishReason, String providerFinishReason, TokenUsage usage,
                           List<TokenLogprob> logprobs, Duration latency, String providerModel) {

    public ChatResponse {
        text = text == null ? "" : text;
        logprobs = logprobs == null ? List.of() : List.copyOf(logprobs);
        providerFinishReason = providerFinishReason == null ? "" : providerFinishReason;
        providerModel = providerModel == null ? "" : providerModel;
    }

    /** True when the provider returned token log probabilities. */
    public boolean hasLogprobs() {
        return !logprobs.isEmpty();
    }
}
