package dev.tandem.models.chat;

import java.util.Locale;

/** Why a model stopped generating, normalised over the providers. */
public enum FinishReason {
    /** Natural end or a stop sequence. */
    STOP,
    /** The token limit was reached: the answer is probably cut off. */
    LENGTH,
    /** The provider's content filter or a refusal. */
    CONTENT_FILTER,
    /** The model called a tool (Anthropic structured output ends this way). */
    TOOL_USE,
    /** Anything else the provider reports. */
    OTHER;

    /** Maps a provider's finish or stop reason string. */
    public static FinishReason of(String providerReason) {
        if (providerReason == null) {
            return OTHER;
        }
        return switch (providerReason.toLowerCase(Locale.ROOT)) {
            case "stop", "end_turn", "stop_sequence", "eos", "eos_token" -> STOP;
            case "length", "max_tokens", "model_context_window_exceeded" -> LENGTH;
            case "content_filter", "refusal" -> CONTENT_FILTER;
            case "tool_calls", "tool_use", "function_call" -> TOOL_USE;
            default -> OTHER;
        };
    }
}
