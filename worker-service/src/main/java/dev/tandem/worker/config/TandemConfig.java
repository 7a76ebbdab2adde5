package dev.tandem.worker.config;

import dev.tandem.models.Provider;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The worker's configuration: the models it may run and how its step workflow behaves. */
@ConfigMapping(prefix = "tandem")
public interface TandemConfig {

    /** Models by catalog id, for example {@code tandem.models."embedded-minilm".encoder}. */
    Map<String, Model> models();

    /** Step workflow settings. */
    Worker worker();

    /** One configured model. */
    interface Model {
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
    }

    /** A replay model's dataset. */
    interface Replay {
        /** CSV file with a header row. */
        String dataset();

        /** Column of the prompts (questions). */
        @WithDefault("prompt")
        String promptColumn();

        /** Column of this model's recorded responses; the only other column read. */
        String responseColumn();

        /** The step input looked up in the prompt column. */
        @WithDefault("question")
        String keyInput();

        /** BPE encoding used to estimate token counts (jtokkit): cl100k_base, o200k_base, ... */
        @WithDefault("cl100k_base")
        String tokenizer();
    }

    /** Step workflow settings. */
    interface Worker {
        /** Directory with extra worker type files ({@code *.json}), for example a mounted ConfigMap. */
        Optional<String> typesDir();

        /** Directory of the replay datasets the default configuration names (env {@code TANDEM_WORKER_REPLAY_DIR}). */
        Optional<String> replayDir();

        /** Upper bound on the total characters of a step's inputs; larger steps are rejected in pre-flight. */
        @WithDefault("20000")
        int maxInputChars();

        /** Checkpoint store settings. */
        Checkpoint checkpoint();

        /** Review settings. */
        Review review();
    }

    /** Checkpoint store settings. */
    interface Checkpoint {
        /** Most step results kept; the least recently used are evicted first. */
        @WithDefault("10000")
        long maxEntries();

        /** How long a result stays replayable; router retries happen within seconds. */
        @WithDefault("PT30M")
        Duration ttl();
    }

    /** Review settings. */
    interface Review {
        /**
         * A candidate summary is accepted when its coverage (cosine of its centroid to the document centroid,
         * under the reviewer's encoder) is at least the reviewer's own coverage minus this margin.
         */
        @WithDefault("0.05")
        double summaryCoverageMargin();
    }
}
