package dev.tandem.models.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientImpl;
import com.openai.client.okhttp.OkHttpClient;
import com.openai.core.ClientOptions;
import com.openai.core.JsonValue;
import com.openai.core.RequestOptions;
import com.openai.core.Timeout;
import com.openai.errors.OpenAIInvalidDataException;
import com.openai.errors.OpenAIIoException;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.CompletionUsage;
import dev.tandem.models.Endpoint.StructuredOutput;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.chat.Availability;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.FinishReason;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;
import dev.tandem.models.chat.ProviderErrors;
import dev.tandem.models.chat.SchemaPrompt;
import dev.tandem.models.chat.TokenLogprob;
import dev.tandem.models.chat.TokenUsage;
import dev.tandem.models.sdk.SdkModelClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * OpenAI-compatible Chat Completions through the official {@code openai-java} SDK: vLLM, SGLang, TGI, llama.cpp
 * server, Ollama, LM Studio and OpenAI itself differ only in configuration (base URL, model name, key, how a schema
 * is sent, extra body fields). The SDK's own retries are off: the router owns retries and failover.
 * <p>
 * A little over the usual size: it is the whole mapping between {@code ChatRequest}/{@code ChatResponse} and one
 * provider's protocol (request parameters, streaming, errors, usage, logprobs), as {@code AnthropicModelClient} is
 * for the other; what the two share (the keyed SDK client, cancellable calls, timeouts, batch-API calls) is
 * {@link SdkModelClient}.
 */
public final class OpenAiModelClient extends SdkModelClient<OpenAIClient> {

    /** Sent as the bearer token to servers configured without a key (they ignore it; the SDK needs one). */
    static final String NO_KEY = "none";
    private static final ObjectMapper JSON = new ObjectMapper();

    public OpenAiModelClient(ModelSpec spec) {
        super(spec, OpenAIClient::close);
        warmUp();
    }

    @Override
    public Availability availability() {
        try {
            endpoint.apiKey().resolve();
        } catch (IllegalStateException e) {
            return Availability.down(e.getMessage());
        }
        return Availability.up("openai-compatible at " + endpoint.baseUrl() + ", model " + endpoint.providerModel()
                + ", key " + endpoint.apiKey().describe());
    }

    @Override
    protected ChatResponse chatNow(ChatRequest request) {
        var key = key();
        var params = params(request);
        var options = options(request.deadline());
        long start = System.nanoTime();
        ErrorBodyCapture.clear();
        ChatCompletion completion;
        try {
            completion = client(key).chat().completions().create(params, options);
        } catch (RuntimeException e) {
            throw failure(e, key);
        }
        return response(completion, Duration.ofNanos(System.nanoTime() - start), key);
    }

    /**
     * A completion as a {@link ChatResponse}: also for the completions of a batch's output file.
     *
     * @throws ModelCallException when it has no choice, the model refused, or it is malformed
     */
    public ChatResponse response(ChatCompletion completion, Duration latency) {
        return response(completion, latency, key());
    }

    private ChatResponse response(ChatCompletion completion, Duration latency, String key) {
        // the SDK parses lazily: a body that is JSON but no completion ("{}") fails at the first field read
        try {
            if (completion.choices().isEmpty()) {
                throw new ModelCallException(Kind.UNAVAILABLE, spec.id(), "the server returned no choices");
            }
            var choice = completion.choices().getFirst();
            var message = choice.message();
            var text = message.content().orElse("");
            if (text.isEmpty() && message.refusal().isPresent()) {
                throw new ModelCallException(Kind.BAD_REQUEST, spec.id(), "the model refused", 200, null,
                        ProviderErrors.redact(message.refusal().get(), Optional.of(key)), null);
            }
            var reason = choice.finishReason().asString();
            var logprobs = choice.logprobs().flatMap(l -> l.content()).map(OpenAiModelClient::logprobs)
                    .orElse(List.of());
            return new ChatResponse(text, FinishReason.of(reason), reason, usage(completion.usage()), logprobs,
                    latency, completion.model());
        } catch (OpenAIInvalidDataException e) {
            throw malformed(e);
        }
    }

    @Override
    protected ChatResponse streamNow(ChatRequest request, Consumer<String> onTextDelta) {
        var key = key();
        var params = params(request).toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        long start = System.nanoTime();
        ErrorBodyCapture.clear();
        var text = new StringBuilder();
        var logprobs = new ArrayList<TokenLogprob>();
        String reason = "";
        String model = "";
        Optional<CompletionUsage> usage = Optional.empty();
        try (var stream = client(key).chat().completions().createStreaming(params, options(request.deadline()))) {
            var chunks = stream.stream().iterator();
            while (chunks.hasNext()) {
                ChatCompletionChunk chunk = chunks.next();
                model = chunk.model();
                if (chunk.usage().isPresent()) {
                    usage = chunk.usage();
                }
                for (var choice : chunk.choices()) {
                    var delta = choice.delta().content().orElse("");
                    if (!delta.isEmpty()) {
                        text.append(delta);
                        onTextDelta.accept(delta);
                    }
                    choice.logprobs().flatMap(l -> l.content()).ifPresent(l -> logprobs.addAll(logprobs(l)));
                    if (choice.finishReason().isPresent()) {
                        reason = choice.finishReason().get().asString();
                    }
                }
            }
        } catch (ModelCallException e) {
            throw e;
        } catch (OpenAIInvalidDataException e) {
            throw malformed(e);
        } catch (RuntimeException e) {
            throw failure(e, key);
        }
        return new ChatResponse(text.toString(), FinishReason.of(reason), reason, usage(usage), logprobs,
                Duration.ofNanos(System.nanoTime() - start), model);
    }

    /** The error body of the previous call is not this call's. */
    @Override
    protected void beforeCall() {
        ErrorBodyCapture.clear();
    }

    /** The request body, exactly as the configured server expects it (also one line of a batch input file). */
    public ChatCompletionCreateParams params(ChatRequest request) {
        var builder = ChatCompletionCreateParams.builder()
                .model(request.model().orElse(endpoint.providerModel()));
        var schema = request.responseSchema();
        var mode = endpoint.structuredOutput();
        boolean schemaInPrompt = schema.isPresent() && mode != StructuredOutput.JSON_SCHEMA
                && mode != StructuredOutput.TOOL;
        var system = request.systemText();
        if (schemaInPrompt) {
            system = SchemaPrompt.withSchema(system, schema.get());
        }
        if (!system.isBlank()) {
            builder.addSystemMessage(system);
        }
        for (var message : request.messages()) {
            switch (message.role()) {
                case USER -> builder.addUserMessage(message.content());
                case ASSISTANT -> builder.addMessage(ChatCompletionAssistantMessageParam.builder()
                        .content(message.content()).build());
                case SYSTEM -> {
                    // joined into the one system message above
                }
            }
        }
        endpoint.extraBody().properties().forEach(e -> builder.putAdditionalBodyProperty(e.getKey(),
                JsonValue.fromJsonNode(e.getValue())));
        schema.ifPresent(s -> {
            var node = JsonValue.fromJsonNode(s.schema());
            switch (mode) {
                case JSON_SCHEMA, TOOL -> {
                    var properties = new LinkedHashMap<String, JsonValue>();
                    s.schema().properties().forEach(e -> properties.put(e.getKey(),
                            JsonValue.fromJsonNode(e.getValue())));
                    builder.responseFormat(ResponseFormatJsonSchema.builder()
                            .jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder().name(s.name())
                                    .strict(endpoint.strictSchema())
                                    .schema(ResponseFormatJsonSchema.JsonSchema.Schema.builder()
                                            .putAllAdditionalProperties(properties).build())
                                    .build())
                            .build());
                }
                case JSON_OBJECT -> builder.responseFormat(ResponseFormatJsonObject.builder().build());
                case VLLM_GUIDED_JSON -> builder.putAdditionalBodyProperty("guided_json", node);
                case VLLM_STRUCTURED_OUTPUTS -> builder.putAdditionalBodyProperty("structured_outputs",
                        JsonValue.from(Map.of("json", node)));
                case PROMPT -> {
                    // the schema travels in the system prompt only
                }
            }
        });
        if (request.logprobs()) {
            builder.logprobs(true);
            if (request.topLogprobs() > 0) {
                builder.topLogprobs(request.topLogprobs());
            }
        }
        long maxTokens = request.maxTokens().orElse(endpoint.defaultMaxTokens());
        switch (endpoint.maxTokensField()) {
            case MAX_TOKENS -> builder.maxTokens(maxTokens);
            case MAX_COMPLETION_TOKENS -> builder.maxCompletionTokens(maxTokens);
        }
        request.temperature().ifPresent(builder::temperature);
        endpoint.headers().forEach(builder::putAdditionalHeader);
        return builder.build();
    }

    /** This request's timeouts: the configured ones, cut to the time the caller has left. */
    public RequestOptions options(CallDeadline deadline) {
        var request = requestTimeout(deadline);
        var connect = connectTimeout(request);
        return RequestOptions.builder().timeout(Timeout.builder().connect(connect).read(request).write(request)
                .request(request).build()).build();
    }

    @Override
    protected String key() {
        try {
            return endpoint.apiKey().resolve().orElse(NO_KEY);
        } catch (IllegalStateException e) {
            throw new ModelCallException(Kind.AUTH, spec.id(), e.getMessage());
        }
    }

    @Override
    protected OpenAIClient build(String key) {
        var timeout = Timeout.builder().connect(endpoint.connectTimeout())
                .read(endpoint.requestTimeout()).write(endpoint.requestTimeout())
                .request(endpoint.requestTimeout()).build();
        var http = new ErrorBodyCapture(OkHttpClient.builder().timeout(timeout).build());
        return new OpenAIClientImpl(ClientOptions.builder()
                .httpClient(http)
                .baseUrl(endpoint.baseUrl().toString())
                .apiKey(key)
                .maxRetries(0)
                .timeout(timeout)
                .build());
    }

    @Override
    protected ModelCallException failure(RuntimeException e, String key) {
        var redactKey = Optional.of(key).filter(k -> !k.equals(NO_KEY));
        if (e instanceof OpenAIServiceException service) {
            return ProviderErrors.httpFailure(spec.id(), service.statusCode(),
                    ProviderErrors.redact(errorMessage(service), redactKey),
                    service.headers().values("retry-after-ms"), service.headers().values("retry-after"));
        }
        if (e instanceof OpenAIIoException io) {
            return ProviderErrors.io(spec.id(), io, endpoint.requestTimeout());
        }
        if (e instanceof OpenAIInvalidDataException invalid) {
            return malformed(invalid);
        }
        return new ModelCallException(Kind.UNAVAILABLE, spec.id(), "call failed (" + e.getClass().getSimpleName()
                + ")", 0, null, ProviderErrors.redact(e.getMessage(), redactKey), null);
    }

    /**
     * The provider's message: the SDK keeps OpenAI's {@code error} object as the body; servers that answer with
     * another shape (vLLM's top-level {@code message}) leave it empty and the SDK's message holds the raw body.
     */
    private static String errorMessage(OpenAIServiceException service) {
        try {
            JsonNode body = JSON.valueToTree(service.body());
            var message = ProviderErrors.messageOf(body);
            if (!message.isBlank()) {
                return message;
            }
        } catch (IllegalArgumentException missingBody) {
            // fall through to the exception text
        }
        var raw = ErrorBodyCapture.last();
        if (raw.isPresent()) {
            try {
                return ProviderErrors.messageOf(JSON.readTree(raw.get()));
            } catch (JsonProcessingException notJson) {
                return raw.get();
            }
        }
        return service.getMessage() == null ? "" : service.getMessage();
    }

    private ModelCallException malformed(OpenAIInvalidDataException e) {
        return new ModelCallException(Kind.UNAVAILABLE, spec.id(), "malformed response from the server", 0, null,
                e.getMessage(), null);
    }

    static TokenUsage usage(Optional<CompletionUsage> usage) {
        if (usage.isEmpty()) {
            return TokenUsage.NONE;
        }
        var u = usage.get();
        long cached = u.promptTokensDetails().flatMap(d -> d.cachedTokens()).orElse(0L);
        var counted = new TokenUsage(Math.max(0, u.promptTokens() - cached), u.completionTokens(), cached, 0, false);
        return reportedCost(u).map(counted::withReportedCost).orElse(counted);
    }

    /**
     * The call's cost when the server reports it in the usage object, as OpenRouter does ({@code usage.cost}, in
     * USD): a gateway that knows its own prices is billed by them, not by the catalog's token prices.
     */
    static Optional<Double> reportedCost(CompletionUsage usage) {
        var cost = usage._additionalProperties().get("cost");
        if (cost == null) {
            return Optional.empty();
        }
        try {
            Optional<Number> number = cost.asNumber(); // JsonValue extends the raw JsonField
            return number.map(Number::doubleValue).filter(c -> c >= 0 && Double.isFinite(c));
        } catch (RuntimeException notANumber) {
            return Optional.empty();
        }
    }

    static List<TokenLogprob> logprobs(List<ChatCompletionTokenLogprob> tokens) {
        var out = new ArrayList<TokenLogprob>(tokens.size());
        for (var t : tokens) {
            var top = t.topLogprobs().stream()
                    .map(a -> new TokenLogprob.Alternative(a.token(), a.logprob())).toList();
            out.add(new TokenLogprob(t.token(), t.logprob(), top));
        }
        return out;
    }
}
