package dev.tandem.models;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach a remote model: everything a provider client needs, from configuration only.
 *
 * @param baseUrl           API base URL, e.g. {@code http://vllm.gpu.svc:8000/v1} or {@code https://api.openai.com/v1}
 * @param providerModel     the model name the server expects, e.g. {@code Qwen/Qwen2.5-7B-Instruct}
 * @param apiKey            where the key comes from (none for unauthenticated local servers)
 * @param connectTimeout    TCP connect timeout
 * @param requestTimeout    whole-call timeout (for streams: the time between reads)
 * @param headers           extra HTTP headers sent on every call (e.g. an API gateway's routing header)
 * @param structuredOutput  how a response schema is sent
 * @param strictSchema      OpenAI {@code strict} JSON schema mode (needs schemas OpenAI's strict subset accepts)
 * @param extraBody         extra top-level request body fields merged into every call (vLLM sampling extras,
 *                          {@code chat_template_kwargs}, TGI grammar, ...); values set by the call win
 * @param maxTokensField    the request field that carries the token limit
 * @param defaultMaxTokens  token limit when a call does not set one (Anthropic requires one)
 */
public record Endpoint(URI baseUrl, String providerModel, ApiKeySource apiKey, Duration connectTimeout,
                       Duration requestTimeout, Map<String, String> headers, StructuredOutput structuredOutput,
                       boolean strictSchema, ObjectNode extraBody, MaxTokensField maxTokensField,
                       int defaultMaxTokens) {

    public Endpoint {
        Objects.requireNonNull(baseUrl, "baseUrl");
        if (providerModel == null || providerModel.isBlank()) {
            throw new IllegalArgumentException("a remote model needs the provider's model name");
        }
        apiKey = apiKey == null ? ApiKeySource.none() : apiKey;
        connectTimeout = connectTimeout == null ? Duration.ofSeconds(5) : connectTimeout;
        requestTimeout = requestTimeout == null ? Duration.ofSeconds(60) : requestTimeout;
        headers = headers == null ? Map.of() : Map.copyOf(headers);
        structuredOutput = structuredOutput == null ? StructuredOutput.JSON_SCHEMA : structuredOutput;
        extraBody = extraBody == null ? JsonNodeFactory.instance.objectNode() : extraBody.deepCopy();
        maxTokensField = maxTokensField == null ? MaxTokensField.MAX_TOKENS : maxTokensField;
        if (defaultMaxTokens < 1) {
            throw new IllegalArgumentException("default max tokens must be positive, was " + defaultMaxTokens);
        }
        if (!baseUrl.isAbsolute() || !(baseUrl.getScheme().equals("http") || baseUrl.getScheme().equals("https"))) {
            throw new IllegalArgumentException("base URL must be an absolute http(s) URL, was " + baseUrl);
        }
    }

    /** An endpoint with defaults for everything but the URL, model name and key. */
    public static Endpoint of(String baseUrl, String providerModel, ApiKeySource apiKey) {
        return new Endpoint(URI.create(baseUrl), providerModel, apiKey, null, null, null, null, false, null, null,
                1024);
    }

    /** How a {@code ResponseSchema} reaches the server. */
    public enum StructuredOutput {
        /** {@code response_format: {type: json_schema, json_schema: {...}}}: OpenAI, vLLM, SGLang, llama.cpp, Ollama, LM Studio. */
        JSON_SCHEMA,
        /** {@code response_format: {type: json_object}} plus the schema in the system prompt: servers with JSON mode only. */
        JSON_OBJECT,
        /** vLLM's {@code guided_json} body field (vLLM before 0.10) plus the schema in the prompt. */
        VLLM_GUIDED_JSON,
        /** vLLM's {@code structured_outputs: {json: ...}} body field (vLLM 0.10 and later) plus the schema in the prompt. */
        VLLM_STRUCTURED_OUTPUTS,
        /** Only the schema in the system prompt: servers without any constrained decoding. */
        PROMPT,
        /** Anthropic: a forced tool whose input schema is the response schema. */
        TOOL;

        /** Parses a configuration value such as {@code json-schema} or {@code vllm_guided_json}. */
        public static StructuredOutput parse(String value) {
            return valueOf(value.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    /** Which request field carries the token limit. */
    public enum MaxTokensField {
        /** {@code max_tokens}: vLLM, SGLang, TGI, llama.cpp, Ollama, LM Studio, OpenAI non-reasoning models. */
        MAX_TOKENS,
        /** {@code max_completion_tokens}: OpenAI reasoning models (o-series, gpt-5). */
        MAX_COMPLETION_TOKENS;

        public static MaxTokensField parse(String value) {
            return valueOf(value.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }
}
