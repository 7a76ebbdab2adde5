package dev.tandem.models.anthropic;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.RequestOptions;
import com.anthropic.core.Timeout;
import com.anthropic.errors.AnthropicInvalidDataException;
import com.anthropic.errors.AnthropicIoException;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolChoiceTool;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import dev.tandem.models.chat.TokenUsage;
import dev.tandem.models.sdk.SdkModelClient;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Anthropic's Messages API through the official {@code anthropic-java} SDK. Structured output is a forced tool
 * call whose input schema is the response schema (the tool's input is the answer). The API has no log
 * probabilities: callers score confidence from other signals. Usage maps cache reads to cached input and cache
 * writes into input. The SDK's own retries are off: the router owns retries and failover.
 */
public final class AnthropicModelClient extends SdkModelClient<AnthropicClient> {

    /** Name of the tool whose input is the structured answer. */
    static final String ANSWER_TOOL = "answer";
    private static final ObjectMapper JSON = new ObjectMapper();

    public AnthropicModelClient(ModelSpec spec) {
        super(spec, AnthropicClient::close);
        warmUp();
    }

    @Override
    public Availability availability() {
        if (endpoint.apiKey().isNone()) {
            return Availability.down("no API key configured (set api-key-env or api-key-file)");
        }
        try {
            endpoint.apiKey().resolve();
        } catch (IllegalStateException e) {
            return Availability.down(e.getMessage());
        }
        return Availability.up("anthropic at " + endpoint.baseUrl() + ", model " + endpoint.providerModel()
                + ", key " + endpoint.apiKey().describe());
    }

    @Override
    protected ChatResponse chatNow(ChatRequest request) {
        var key = key();
        var params = params(request);
        long start = System.nanoTime();
        Message message;
        try {
            message = client(key).messages().create(params, options(request.deadline()));
        } catch (RuntimeException e) {
            throw failure(e, key);
        }
        return response(message, request, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * A message as a {@link ChatResponse}, read as an answer to {@code request} (a schema's answer comes in the
     * answer tool's input): also for the messages of a batch's results.
     */
    public ChatResponse response(Message message, ChatRequest request, Duration latency) {
        return response(message, request.responseSchema().isPresent(), latency);
    }

    /**
     * A message as a {@link ChatResponse}, read as the answer to a request that asked for a response schema or not:
     * the results of a batch item whose request is known only by its form (a batch reloaded after a restart).
     */
    public ChatResponse response(Message message, boolean schema, Duration latency) {
        try {
            String text = answerText(message, schema && endpoint.structuredOutput() == StructuredOutput.TOOL);
            var reason = message.stopReason().map(r -> r.asString()).orElse("");
            return new ChatResponse(text, FinishReason.of(reason), reason, usage(message.usage().inputTokens(),
                    message.usage().outputTokens(), message.usage().cacheReadInputTokens().orElse(0L),
                    message.usage().cacheCreationInputTokens().orElse(0L)), List.of(), latency,
                    message.model().asString());
        } catch (AnthropicInvalidDataException e) {
            throw malformed(e);
        }
    }

    @Override
    protected ChatResponse streamNow(ChatRequest request, Consumer<String> onTextDelta) {
        var key = key();
        var params = params(request);
        long start = System.nanoTime();
        var text = new StringBuilder();
        String reason = "";
        String model = "";
        long input = 0;
        long output = 0;
        long cacheRead = 0;
        long cacheWrite = 0;
        try (var stream = client(key).messages().createStreaming(params, options(request.deadline()))) {
            var events = stream.stream().iterator();
            while (events.hasNext()) {
                RawMessageStreamEvent event = events.next();
                if (event.isMessageStart()) {
                    var started = event.asMessageStart().message();
                    model = started.model().asString();
                    input = started.usage().inputTokens();
                    output = started.usage().outputTokens();
                    cacheRead = started.usage().cacheReadInputTokens().orElse(0L);
                    cacheWrite = started.usage().cacheCreationInputTokens().orElse(0L);
                } else if (event.isContentBlockDelta()) {
                    var delta = event.asContentBlockDelta().delta();
                    String piece = delta.isText() ? delta.asText().text()
                            : delta.isInputJson() ? delta.asInputJson().partialJson() : "";
                    if (!piece.isEmpty()) {
                        text.append(piece);
                        onTextDelta.accept(piece);
                    }
                } else if (event.isMessageDelta()) {
                    var delta = event.asMessageDelta();
                    reason = delta.delta().stopReason().map(r -> r.asString()).orElse(reason);
                    var usage = delta.usage();
                    output = usage.outputTokens();
                    input = usage.inputTokens().orElse(input);
                    cacheRead = usage.cacheReadInputTokens().orElse(cacheRead);
                    cacheWrite = usage.cacheCreationInputTokens().orElse(cacheWrite);
                }
            }
        } catch (AnthropicInvalidDataException e) {
            throw malformed(e);
        } catch (RuntimeException e) {
            throw failure(e, key);
        }
        return new ChatResponse(text.toString(), FinishReason.of(reason), reason,
                usage(input, output, cacheRead, cacheWrite), List.of(), Duration.ofNanos(System.nanoTime() - start),
                model);
    }

    /**
     * The request body: system prompt, messages, and the answer tool when a schema is asked for (also the params of
     * one request of a message batch).
     */
    public MessageCreateParams params(ChatRequest request) {
        var builder = MessageCreateParams.builder()
                .model(request.model().orElse(endpoint.providerModel()))
                .maxTokens(request.maxTokens().orElse(endpoint.defaultMaxTokens()));
        var schema = request.responseSchema();
        boolean tool = schema.isPresent() && endpoint.structuredOutput() == StructuredOutput.TOOL;
        var system = request.systemText();
        if (schema.isPresent() && !tool) {
            system = SchemaPrompt.withSchema(system, schema.get());
        }
        if (!system.isBlank()) {
            builder.system(system);
        }
        for (var message : request.messages()) {
            switch (message.role()) {
                case USER -> builder.addUserMessage(message.content());
                case ASSISTANT -> builder.addAssistantMessage(message.content());
                case SYSTEM -> {
                    // joined into the system prompt above
                }
            }
        }
        if (tool) {
            var properties = new LinkedHashMap<String, JsonValue>();
            schema.get().schema().properties().forEach(e -> properties.put(e.getKey(),
                    JsonValue.fromJsonNode(e.getValue())));
            builder.addTool(Tool.builder().name(ANSWER_TOOL)
                    .description("Give the answer in this structure.")
                    .inputSchema(Tool.InputSchema.builder().putAllAdditionalProperties(properties).build())
                    .build());
            builder.toolChoice(ToolChoiceTool.builder().name(ANSWER_TOOL).build());
        }
        // this SDK version has no typed temperature setter; the API field is documented and stable
        request.temperature().ifPresent(t -> builder.putAdditionalBodyProperty("temperature", JsonValue.from(t)));
        endpoint.extraBody().properties().forEach(e -> builder.putAdditionalBodyProperty(e.getKey(),
                JsonValue.fromJsonNode(e.getValue())));
        endpoint.headers().forEach(builder::putAdditionalHeader);
        return builder.build();
    }

    /** The structured answer is the answer tool's input; otherwise the text blocks joined. */
    private String answerText(Message message, boolean tool) {
        if (tool) {
            for (var block : message.content()) {
                if (block.isToolUse() && block.asToolUse().name().equals(ANSWER_TOOL)) {
                    JsonNode input = JSON.valueToTree(block.asToolUse()._input());
                    return input.toString();
                }
            }
            throw new ModelCallException(Kind.UNAVAILABLE, spec.id(), "the model did not call the answer tool");
        }
        var text = new StringBuilder();
        for (var block : message.content()) {
            if (block.isText()) {
                text.append(block.asText().text());
            }
        }
        return text.toString();
    }

    /** This request's timeouts: the configured ones, cut to the time the caller has left. */
    RequestOptions options(CallDeadline deadline) {
        var request = requestTimeout(deadline);
        var connect = connectTimeout(request);
        return RequestOptions.builder().timeout(Timeout.builder().connect(connect).read(request).write(request)
                .request(request).build()).build();
    }

    @Override
    protected String key() {
        try {
            return endpoint.apiKey().resolve().orElseThrow(() -> new ModelCallException(Kind.AUTH, spec.id(),
                    "no API key configured (set api-key-env or api-key-file)"));
        } catch (IllegalStateException e) {
            throw new ModelCallException(Kind.AUTH, spec.id(), e.getMessage());
        }
    }

    @Override
    protected AnthropicClient build(String key) {
        return AnthropicOkHttpClient.builder()
                .baseUrl(endpoint.baseUrl().toString())
                .apiKey(key)
                .maxRetries(0)
                .timeout(Timeout.builder().connect(endpoint.connectTimeout())
                        .read(endpoint.requestTimeout()).write(endpoint.requestTimeout())
                        .request(endpoint.requestTimeout()).build())
                .build();
    }

    @Override
    protected ModelCallException failure(RuntimeException e, String key) {
        if (e instanceof ModelCallException m) {
            return m;
        }
        var redactKey = Optional.of(key);
        if (e instanceof AnthropicServiceException service) {
            return ProviderErrors.httpFailure(spec.id(), service.statusCode(),
                    ProviderErrors.redact(errorMessage(service), redactKey),
                    service.headers().values("retry-after-ms"), service.headers().values("retry-after"));
        }
        if (e instanceof AnthropicIoException io) {
            return ProviderErrors.io(spec.id(), io, endpoint.requestTimeout());
        }
        return new ModelCallException(Kind.UNAVAILABLE, spec.id(), "call failed (" + e.getClass().getSimpleName()
                + ")", 0, null, ProviderErrors.redact(e.getMessage(), redactKey), null);
    }

    private static String errorMessage(AnthropicServiceException service) {
        try {
            JsonNode body = JSON.valueToTree(service.body());
            var message = ProviderErrors.messageOf(body);
            if (!message.isBlank()) {
                return message;
            }
        } catch (IllegalArgumentException missingBody) {
            // fall through to the exception text
        }
        return service.getMessage() == null ? "" : service.getMessage();
    }

    private ModelCallException malformed(AnthropicInvalidDataException e) {
        return new ModelCallException(Kind.UNAVAILABLE, spec.id(), "malformed response from the API", 0, null,
                e.getMessage(), null);
    }

    /** Anthropic reports uncached input, cache reads and cache writes separately; input here includes writes. */
    static TokenUsage usage(long input, long output, long cacheRead, long cacheWrite) {
        return new TokenUsage(input + cacheWrite, output, cacheRead, cacheWrite, false);
    }
}
