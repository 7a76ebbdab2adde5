package dev.tandem.models;

import dev.langchain4j.model.embedding.onnx.HuggingFaceTokenCountEstimator;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The encoders shipped inside Maven artifacts, so the offline default needs no download. Each is loaded once
 * per JVM on first use and never before (an ONNX session with its native runtime is tens of MB of memory and
 * seconds of start-up): a service loads only the encoders its configured models actually run.
 * <ul>
 *   <li>{@code all-minilm-l6-v2-q}: all-MiniLM-L6-v2, 6 layers, int8-quantised: the cheap worker model.</li>
 *   <li>{@code bge-small-en-v15-q}: BGE-small-en-v1.5, 12 layers, int8-quantised: a larger, independently
 *       trained model the embedded oracle reviews with.</li>
 * </ul>
 */
public final class EmbeddedEncoders {

    public static final String MINILM = "all-minilm-l6-v2-q";
    public static final String BGE_SMALL = "bge-small-en-v15-q";

    private static final Map<String, EmbeddedEncoder> LOADED = new ConcurrentHashMap<>();

    private EmbeddedEncoders() {
    }

    /** Names of the encoders available. */
    public static Set<String> names() {
        return Set.of(MINILM, BGE_SMALL);
    }

    /** Whether the encoder of that name has been loaded in this JVM. */
    public static boolean isLoaded(String name) {
        return LOADED.containsKey(name);
    }

    /** Names of the encoders loaded so far. */
    public static Set<String> loaded() {
        return Set.copyOf(LOADED.keySet());
    }

    /**
     * Number of word-piece tokens of a text with a BERT tokenizer (the token usage billed for embedded calls),
     * without loading any encoder's ONNX session: the tokenizer alone is loaded, once, on first use.
     */
    public static int countTokens(String text) {
        return text.isEmpty() ? 0 : Tokens.ESTIMATOR.estimateTokenCountInText(text);
    }

    /** Holder: the tokenizer's native library loads on the first count, not with this class. */
    private static final class Tokens {
        static final HuggingFaceTokenCountEstimator ESTIMATOR = new HuggingFaceTokenCountEstimator();
    }

    /** The encoder of that name, loaded on first use. */
    public static EmbeddedEncoder get(String name) {
        return LOADED.computeIfAbsent(name, n -> switch (n) {
            // the model files of LangChain4j's packaged models, in sessions with our options (EncoderSessions)
            case MINILM -> new EmbeddedEncoder(n, EncoderSessions.load(AllMiniLmL6V2QuantizedEmbeddingModel.class,
                    "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json", PoolingMode.MEAN, 384,
                    EncoderSessions.Options.CHOSEN));
            case BGE_SMALL -> new EmbeddedEncoder(n, EncoderSessions.load(BgeSmallEnV15QuantizedEmbeddingModel.class,
                    "bge-small-en-v1.5-q.onnx", "bge-small-en-v1.5-q-tokenizer.json", PoolingMode.CLS, 384,
                    EncoderSessions.Options.CHOSEN));
            default -> throw new IllegalArgumentException(
                    "unknown embedded encoder '" + n + "'; available: " + names());
        });
    }
}
