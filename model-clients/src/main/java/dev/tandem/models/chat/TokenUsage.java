package dev.tandem.models.chat;

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
 */
public record TokenUsage(long inputTokens, long outputTokens, long cachedInputTokens, long cacheWriteInputTokens,
                         boolean estimated) {

    public static final TokenUsage NONE = new TokenUsage(0, 0, 0, 0, false);

    public TokenUsage {
        if (inputTokens < 0 || outputTokens < 0 || cachedInputTokens < 0 || cacheWriteInputTokens < 0) {
            throw new IllegalArgumentException("token counts must not be negative");
        }
    }

    /** The sum of two usages; estimated if either is. */
    public TokenUsage plus(TokenUsage other) {
        return new TokenUsage(inputTokens + other.inputTokens, outputTokens + other.outputTokens,
                cachedInputTokens + other.cachedInputTokens, cacheWriteInputTokens + other.cacheWriteInputTokens,
                estimated || other.estimated);
    }
}
