package dev.tandem.models.config;

import dev.tandem.models.Provider;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One model in the deprecated form {@code tandem.models."<id>".*}, read for one more release: the model catalog,
 * {@code tandem.catalog.models."<id>".*} with the same keys, replaces it ({@code dev.tandem.models.catalog}). A
 * group of a service's {@code @ConfigMapping}; the defaults documented here are those of a catalog entry too.
 */
public interface ModelConfig {

    /** How the model is reached: embedded, openai, anthropic or replay. */
    Provider provider();

    /** Embedded models: the encoder name, for example {@code all-minilm-l6-v2-q}. */
    Optional<String> encoder();

    /** Embedded models: share of each worker type's exemplars the model uses, in (0, 1]. */
    @WithDefault("1.0")
    double exemplarShare();

    /** Remote providers: the API base URL (openai default {@code https://api.openai.com/v1}, anthropic {@code https://api.anthropic.com}). */
    Optional<String> baseUrl();

    /** Remote providers: the model name the provider expects. */
    Optional<String> model();

    /** Remote providers: environment variable that holds the API key (never the key itself). */
    Optional<String> apiKeyEnv();

    /** Remote providers: file that holds the API key, e.g. a mounted Kubernetes Secret; re-read on rotation. */
    Optional<String> apiKeyFile();

    /** Remote providers: TCP connect timeout. */
    @WithDefault("5s")
    Duration connectTimeout();

    /** Remote providers: timeout of one call; keep it under the step timeout so it fails as a provider timeout. */
    @WithDefault("25s")
    Duration requestTimeout();

    /** Remote providers: extra HTTP headers on every call, e.g. {@code tandem.models."m".headers."X-Team"=ml}. */
    Map<String, String> headers();

    /**
     * How a response schema is sent: {@code json-schema} (response_format, default for openai),
     * {@code json-object}, {@code vllm-guided-json}, {@code vllm-structured-outputs}, {@code prompt},
     * {@code tool} (default for anthropic).
     */
    Optional<String> structuredOutput();

    /** OpenAI strict JSON-schema mode. */
    @WithDefault("false")
    boolean strictSchema();

    /** Extra request body fields as a JSON object, e.g. {@code {"chat_template_kwargs":{"enable_thinking":false}}}. */
    Optional<String> extraBody();

    /** {@code max_tokens} (default) or {@code max_completion_tokens} (OpenAI reasoning models). */
    @WithDefault("max_tokens")
    String maxTokensParameter();

    /** Token limit of calls that set none. */
    @WithDefault("1024")
    int maxOutputTokens();

    /** Replay models: the dataset and column they answer from. */
    Optional<Replay> replay();

    /**
     * Capabilities such as {@code generation}, {@code json_schema} or {@code logprobs}. Default by provider:
     * embedded {@code embedding}; openai and anthropic {@code generation,json_schema}; replay {@code generation}.
     * Declare {@code logprobs} only for servers that return them (vLLM, SGLang, llama.cpp, OpenAI).
     */
    Optional<List<String>> capabilities();

    /** A replay model's dataset. */
    interface Replay {
        /** CSV file with a header row, or a JSONL replay file ({@code *.jsonl}). */
        String dataset();

        /** Column of the prompts (questions). */
        @WithDefault("prompt")
        String promptColumn();

        /** CSV: column of this model's recorded responses; the only other column read. */
        Optional<String> responseColumn();

        /** JSONL: the model's key under {@code models} (the fields read are its response and cost_usd). */
        Optional<String> model();

        /** The step input looked up in the prompt column. */
        @WithDefault("question")
        String keyInput();

        /** BPE encoding used to estimate token counts (jtokkit): cl100k_base, o200k_base, ... */
        @WithDefault("cl100k_base")
        String tokenizer();
    }
}
