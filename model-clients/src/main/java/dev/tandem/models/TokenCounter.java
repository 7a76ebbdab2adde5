package dev.tandem.models;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import dev.tandem.models.chat.ChatMessage;

import java.util.List;

/**
 * Token counts with a real BPE tokenizer (jtokkit: {@code cl100k_base} of GPT-4 and GPT-3.5, {@code o200k_base} of
 * GPT-4o, ...), for models whose token usage is not reported (replayed responses). Exact for the content of models
 * that use that encoding, an estimate for every other model (Llama- and Mistral-family tokenizers typically give
 * 10-20 % more tokens for English text).
 */
public final class TokenCounter {

    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    /** OpenAI's chat format: every message costs 3 tokens of framing, the reply is primed with 3 more. */
    private static final int TOKENS_PER_MESSAGE = 3;
    private static final int REPLY_PRIMING = 3;

    private final Encoding encoding;

    private TokenCounter(Encoding encoding) {
        this.encoding = encoding;
    }

    /** The counter of a named encoding, e.g. {@code cl100k_base}. */
    public static TokenCounter of(String encodingName) {
        return new TokenCounter(REGISTRY.getEncoding(encodingName).orElseThrow(() -> new IllegalArgumentException(
                "unknown tokenizer encoding '" + encodingName + "'; known: cl100k_base, o200k_base, p50k_base, "
                        + "p50k_edit, r50k_base")));
    }

    /** Tokens of a text. */
    public int count(String text) {
        return text == null || text.isEmpty() ? 0 : encoding.countTokensOrdinary(text);
    }

    /** Tokens of a chat prompt in OpenAI's chat format (content plus per-message framing). */
    public int countChat(List<ChatMessage> messages) {
        int total = REPLY_PRIMING;
        for (var m : messages) {
            total += TOKENS_PER_MESSAGE + count(m.content());
        }
        return total;
    }

    /** The encoding's name. */
    public String name() {
        return encoding.getName();
    }
}
