package dev.tandem.models.chat;

import java.util.Optional;

/**
 * Tokens of one call, normalised so a price catalog can bill them without knowing the provider.
 *
 * @param inputTokens           prompt tokens billed at the input price: everything read except cache hits
 *                              (OpenAI {@code prompt_tokens - cached_tokens}; Anthropic {@code input_tokens +
 *                              cache_creation_input_tokens})
 * @param outputTokens          generated tokens, billed at the output price
 * @param cachedInputTokens     prompt tokens served from the provider's prompt cache (cached-input price)
 * @param cacheWriteInputTokens the part of {@code inputTokens} that was written to the cache (Anthropic bills
 *                              these above the input price)
 * @param estimated             true when the counts were computed by a local tokenizer, not reported by the model
 * @param reportedCostUsd       what the call cost in USD as the provider reports it (OpenRouter's {@code usage.cost})
 *                              or a replayed recording records it ({@code cost_usd}), else null: then a price catalog
 *                              bills the tokens
 */
public record TokenUsage(long inputTokens, long outputTokens, long cachedInputTokens, long cacheWriteInputTokens,
                         boolean estimated, Double reportedCostUsd) {

    public static final TokenUsage NONE = new TokenUsage(0, 0, 0, 0, false);

    public TokenUsage {
        if (inputTokens < 0 || outputTokens < 0 || cachedInputTokens < 0 || cacheWriteInputTokens < 0) {
            throw new IllegalArgumentException("token counts must not be negative");
        }
        if (reportedCostUsd != null && !(reportedCostUsd >= 0 && reportedCostUsd < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("a reported cost must be a finite amount >= 0, not " + reportedCostUsd);
        }
    }

    /** Usage without a reported cost. */
    public TokenUsage(long inputTokens, long outputTokens, long cachedInputTokens, long cacheWriteInputTokens,
                      boolean estimated) {
        this(inputTokens, outputTokens, cachedInputTokens, cacheWriteInputTokens, estimated, null);
    }

    /** The same counts with the cost the provider or the recording reports. */
    public TokenUsage withReportedCost(double usd) {
        return new TokenUsage(inputTokens, outputTokens, cachedInputTokens, cacheWriteInputTokens, estimated, usd);
    }

    /** The reported cost, when there is one. */
    public Optional<Double> reportedCost() {
        return Optional.ofNullable(reportedCostUsd);
    }

    /**
     * The sum of two usages; estimated if either is. The sum has a reported cost only when it covers every billed
     * token: both parts report one, or the part without one has no tokens (a local encoder's read is free).
     */
    public TokenUsage plus(TokenUsage other) {
        Double cost;
        if (reportedCostUsd != null && other.reportedCostUsd != null) {
            cost = reportedCostUsd + other.reportedCostUsd;
        } else if (reportedCostUsd != null && other.billsNothing()) {
            cost = reportedCostUsd;
        } else if (other.reportedCostUsd != null && billsNothing()) {
            cost = other.reportedCostUsd;
        } else {
            cost = null;
        }
        return new TokenUsage(inputTokens + other.inputTokens, outputTokens + other.outputTokens,
                cachedInputTokens + other.cachedInputTokens, cacheWriteInputTokens + other.cacheWriteInputTokens,
                estimated || other.estimated, cost);
    }

    /** No reported cost and nothing a price catalog would bill: no provider tokens at all. */
    private boolean billsNothing() {
        return reportedCostUsd == null && inputTokens == 0 && outputTokens == 0 && cachedInputTokens == 0;
    }
}
