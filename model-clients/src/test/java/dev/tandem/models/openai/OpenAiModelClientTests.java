package dev.tandem.models.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.tandem.models.ApiKeySource;
import dev.tandem.models.Endpoint;
import dev.tandem.models.Endpoint.StructuredOutput;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.FinishReason;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;
import dev.tandem.models.chat.ResponseSchema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

/** The OpenAI-compatible client against a stub that answers with the real API's bodies. */
class OpenAiModelClientTests {

    static final String KEY = "sk-test-openai-3f9c2a7d41b8e6SECRET";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static WireMockServer server;
    @TempDir
    static Path dir;
    private static Path keyFile;

    @BeforeAll
    static void start() throws Exception {
        server = new WireMockServer(options().dynamicPort());
        server.start();
        keyFile = dir.resolve("openai-key");
        Files.writeString(keyFile, KEY + "\n");
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    @BeforeEach
    void reset() {
        server.resetAll();
    }

    static Endpoint endpoint(String baseUrl, StructuredOutput mode, String extraBody, Duration timeout,
                             ApiKeySource key) throws Exception {
        return new Endpoint(URI.create(baseUrl), "Qwen/Qwen2.5-7B-Instruct", key, Duration.ofSeconds(2), timeout,
                Map.of("X-Team", "ml-platform"), mode, false,
                extraBody == null ? null : (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(extraBody),
                Endpoint.MaxTokensField.MAX_TOKENS, 256);
    }

    private OpenAiModelClient client(StructuredOutput mode, String extraBody) throws Exception {
        return new OpenAiModelClient(ModelSpec.openai("vllm-qwen", endpoint(server.baseUrl() + "/v1", mode, extraBody,
                Duration.ofSeconds(5), ApiKeySource.file(keyFile)), Set.of("generation", "json_schema", "logprobs")));
    }

    static ChatRequest classifyRequest() throws Exception {
        return ChatRequest.builder().system("You classify texts.").user("I was charged twice.")
                .responseSchema(new ResponseSchema("classify", JSON.readTree(
                        "{\"type\":\"object\",\"properties\":{\"label\":{\"type\":\"string\",\"enum\":[\"billing\",\"shipping\"]}},"
                                + "\"required\":[\"label\"],\"additionalProperties\":false}")))
                .logprobs(5).maxTokens(64).temperature(0.0).build();
    }

    static final String COMPLETION = """
            {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,
             "model":"Qwen/Qwen2.5-7B-Instruct",
             "choices":[{"index":0,
               "message":{"role":"assistant","content":"{\\"label\\":\\"billing\\"}","refusal":null,"annotations":[]},
               "logprobs":{"content":[
                 {"token":"{\\"","logprob":-0.0001,"bytes":[123,34],"top_logprobs":[{"token":"{\\"","logprob":-0.0001,"bytes":[123,34]}]},
                 {"token":"label","logprob":-0.0002,"bytes":[108,97,98,101,108],"top_logprobs":[{"token":"label","logprob":-0.0002,"bytes":[108,97,98,101,108]}]},
                 {"token":"\\":\\"","logprob":-0.0003,"bytes":[34,58,34],"top_logprobs":[{"token":"\\":\\"","logprob":-0.0003,"bytes":[34,58,34]}]},
                 {"token":"billing","logprob":-0.2231,"bytes":[98,105,108,108,105,110,103],"top_logprobs":[
                    {"token":"billing","logprob":-0.2231,"bytes":[98,105,108,108,105,110,103]},
                    {"token":"shipping","logprob":-1.6094,"bytes":[115,104,105,112,112,105,110,103]}]},
                 {"token":"\\"}","logprob":-0.0001,"bytes":[34,125],"top_logprobs":[{"token":"\\"}","logprob":-0.0001,"bytes":[34,125]}]}],
                 "refusal":null},
               "finish_reason":"stop"}],
             "usage":{"prompt_tokens":120,"completion_tokens":5,"total_tokens":125,
                      "prompt_tokens_details":{"cached_tokens":64,"audio_tokens":0},
                      "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},
             "service_tier":"default","system_fingerprint":"fp_eb9dce56a8"}
            """;

    @Test
    void sendsModelSchemaLogprobsAndHeadersAndParsesTheAnswerLogprobsAndCachedUsage() throws Exception {
        server.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody(COMPLETION)));

        try (var client = client(StructuredOutput.JSON_SCHEMA, null)) {
            var response = client.chat(classifyRequest());

            assertThat(response.text()).isEqualTo("{\"label\":\"billing\"}");
            assertThat(response.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(response.usage().inputTokens()).isEqualTo(56);
            assertThat(response.usage().cachedInputTokens()).isEqualTo(64);
            assertThat(response.usage().outputTokens()).isEqualTo(5);
            assertThat(response.usage().estimated()).isFalse();
            assertThat(response.usage().reportedCost()).as("no usage.cost: the catalog prices the tokens").isEmpty();
            assertThat(response.logprobs()).hasSize(5);
            assertThat(response.logprobs().get(3).token()).isEqualTo("billing");
            assertThat(response.logprobs().get(3).probability()).isCloseTo(0.8, within(1e-3));
            assertThat(response.logprobs().get(3).top()).extracting(a -> a.token()).containsExactly("billing", "shipping");
            assertThat(response.providerModel()).isEqualTo("Qwen/Qwen2.5-7B-Instruct");
        }
        server.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withHeader("Authorization", equalTo("Bearer " + KEY))
                .withHeader("X-Team", equalTo("ml-platform"))
                .withRequestBody(matchingJsonPath("$.model", equalTo("Qwen/Qwen2.5-7B-Instruct")))
                .withRequestBody(matchingJsonPath("$.messages[0].role", equalTo("system")))
                .withRequestBody(matchingJsonPath("$.messages[0].content", equalTo("You classify texts.")))
                .withRequestBody(matchingJsonPath("$.messages[1].role", equalTo("user")))
                .withRequestBody(matchingJsonPath("$.response_format.type", equalTo("json_schema")))
                .withRequestBody(matchingJsonPath("$.response_format.json_schema.name", equalTo("classify")))
                .withRequestBody(matchingJsonPath("$.response_format.json_schema.schema.properties.label.enum[1]",
                        equalTo("shipping")))
                .withRequestBody(matchingJsonPath("$.logprobs", equalTo("true")))
                .withRequestBody(matchingJsonPath("$.top_logprobs", equalTo("5")))
                .withRequestBody(matchingJsonPath("$.max_tokens", equalTo("64")))
                .withRequestBody(matchingJsonPath("$.temperature", equalTo("0.0"))));
    }

    @Test
    void aCostTheGatewayReportsInTheUsageIsKeptAsTheCallsCost() throws Exception {
        // OpenRouter's usage object: the token counts plus what the call was billed, in USD (credits)
        server.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody(COMPLETION.replace(
                        "\"total_tokens\":125,", "\"total_tokens\":125,\"cost\":0.0001875,\"is_byok\":false,"))));

        try (var client = client(StructuredOutput.JSON_SCHEMA, null)) {
            var usage = client.chat(classifyRequest()).usage();

            assertThat(usage.reportedCost()).contains(0.0001875);
            assertThat(usage.inputTokens()).isEqualTo(56);
        }
    }

    @Test
    void sendsVllmGuidedDecodingAndExtraBodyInsteadOfResponseFormat() throws Exception {
        server.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody(COMPLETION)));

        try (var guided = client(StructuredOutput.VLLM_GUIDED_JSON, "{\"chat_template_kwargs\":{\"enable_thinking\":false},\"top_k\":20}");
             var structured = client(StructuredOutput.VLLM_STRUCTURED_OUTPUTS, null)) {
            guided.chat(classifyRequest());
            structured.chat(ChatRequest.builder().user("x").responseSchema(classifyRequest().responseSchema().get())
                    .model("Qwen/Qwen2.5-72B-Instruct").build());
        }
        var requests = server.findAll(postRequestedFor(urlEqualTo("/v1/chat/completions")));
        var first = JSON.readTree(requests.get(0).getBodyAsString());
        var second = JSON.readTree(requests.get(1).getBodyAsString());
        assertThat(first.has("response_format")).isFalse();
        assertThat(first.at("/guided_json/properties/label/enum/0").asText()).isEqualTo("billing");
        assertThat(first.at("/chat_template_kwargs/enable_thinking").asBoolean(true)).isFalse();
        assertThat(first.at("/top_k").asInt()).isEqualTo(20);
        // servers without response_format support still see the schema in the prompt
        assertThat(first.at("/messages/0/content").asText()).contains("JSON Schema").contains("\"billing\"");
        assertThat(second.at("/structured_outputs/json/properties/label/type").asText()).isEqualTo("string");
        assertThat(second.at("/model").asText()).isEqualTo("Qwen/Qwen2.5-72B-Instruct");
        assertThat(second.at("/max_tokens").asInt()).isEqualTo(256);
    }

    @Test
    void streamsTextDeltasAndEndsWithUsage() throws Exception {
        var sse = """
                data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"Qwen/Qwen2.5-7B-Instruct","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}

                data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"Qwen/Qwen2.5-7B-Instruct","choices":[{"index":0,"delta":{"content":"Refund "},"logprobs":null,"finish_reason":null}],"usage":null}

                data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"Qwen/Qwen2.5-7B-Instruct","choices":[{"index":0,"delta":{"content":"issued."},"logprobs":null,"finish_reason":"stop"}],"usage":null}

                data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"Qwen/Qwen2.5-7B-Instruct","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":3,"total_tokens":43,"prompt_tokens_details":{"cached_tokens":32}}}

                data: [DONE]

                """;
        server.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "text/event-stream").withBody(sse)));

        var deltas = new ArrayList<String>();
        try (var client = client(StructuredOutput.JSON_SCHEMA, null)) {
            var response = client.stream(ChatRequest.builder().user("Summarise.").build(), deltas::add);
            assertThat(deltas).containsExactly("Refund ", "issued.");
            assertThat(response.text()).isEqualTo("Refund issued.");
            assertThat(response.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(response.usage().inputTokens()).isEqualTo(8);
            assertThat(response.usage().cachedInputTokens()).isEqualTo(32);
            assertThat(response.usage().outputTokens()).isEqualTo(3);
        }
        server.verify(postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withRequestBody(matchingJsonPath("$.stream", equalTo("true")))
                .withRequestBody(matchingJsonPath("$.stream_options.include_usage", equalTo("true"))));
    }

    private ModelCallException failure(int status, String body, String... headers) throws Exception {
        var response = aResponse().withStatus(status).withHeader("Content-Type", "application/json").withBody(body);
        for (int i = 0; i < headers.length; i += 2) {
            response.withHeader(headers[i], headers[i + 1]);
        }
        server.stubFor(post("/v1/chat/completions").willReturn(response));
        try (var client = client(StructuredOutput.JSON_SCHEMA, null)) {
            return catchThrowableOfType(ModelCallException.class, () -> client.chat(classifyRequest()));
        }
    }

    @Test
    void rateLimitsCarryRetryAfterAndAreNotRetriedByTheSdk() throws Exception {
        var e = failure(429, """
                {"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29800, Requested 900. Please try again in 1.4s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}
                """, "Retry-After", "7");
        assertThat(e.kind()).isEqualTo(Kind.RATE_LIMITED);
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(7));
        assertThat(e.httpStatus()).isEqualTo(429);
        assertThat(e.getMessage()).contains("vllm-qwen").contains("Rate limit reached");
        server.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions")));

        var ms = failure(429, "{\"error\":{\"message\":\"slow down\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}",
                "retry-after-ms", "1500", "Retry-After", "2");
        assertThat(ms.retryAfter()).contains(Duration.ofMillis(1500));
    }

    @Test
    void serverErrorsAreUnavailableAndRequestErrorsCarryTheProviderMessage() throws Exception {
        var e500 = failure(500, "{\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}");
        assertThat(e500.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(e500.transientFailure()).isTrue();
        server.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions")));

        var e503 = failure(503, "{\"object\":\"error\",\"message\":\"The engine is overloaded\",\"type\":\"ServiceUnavailableError\",\"param\":null,\"code\":503}");
        assertThat(e503.kind()).isEqualTo(Kind.UNAVAILABLE);

        // vLLM's error body has the message at the top level
        var e400 = failure(400, """
                {"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5120 tokens (4096 in the messages, 1024 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}
                """);
        assertThat(e400.kind()).isEqualTo(Kind.BAD_REQUEST);
        assertThat(e400.transientFailure()).isFalse();
        assertThat(e400.providerMessage()).startsWith("This model's maximum context length is 4096 tokens");

        var e404 = failure(404, "{\"error\":{\"message\":\"The model `gpt-17` does not exist or you do not have access to it.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}}");
        assertThat(e404.kind()).isEqualTo(Kind.BAD_REQUEST);
        assertThat(e404.providerMessage()).contains("gpt-17");
    }

    @Test
    void aRejectedKeyIsAuthAndTheKeyNeverAppearsEvenMasked() throws Exception {
        var masked = KEY.substring(0, 8) + "*".repeat(20) + KEY.substring(KEY.length() - 4);
        var e = failure(401, "{\"error\":{\"message\":\"Incorrect API key provided: " + masked
                + ". You can find your API key at https://platform.openai.com/account/api-keys.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}");
        assertThat(e.kind()).isEqualTo(Kind.AUTH);
        assertThat(e.getMessage()).contains("Incorrect API key provided").contains("[redacted]")
                .doesNotContain(KEY).doesNotContain(masked).doesNotContain(KEY.substring(KEY.length() - 4));

        var e403 = failure(403, "{\"error\":{\"message\":\"Project does not have access to model gpt-4o\",\"type\":\"invalid_request_error\",\"code\":\"model_not_found\"}}");
        assertThat(e403.kind()).isEqualTo(Kind.AUTH);
        assertThat(e403.httpStatus()).isEqualTo(403);
    }

    @Test
    void slowAnswersTimeOutAndRefusedConnectionsAreUnavailable() throws Exception {
        server.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody(COMPLETION).withFixedDelay(3000)));
        try (var slow = new OpenAiModelClient(ModelSpec.openai("slow", endpoint(server.baseUrl() + "/v1",
                StructuredOutput.JSON_SCHEMA, null, Duration.ofMillis(300), ApiKeySource.none()), Set.of()))) {
            var e = catchThrowableOfType(ModelCallException.class, () -> slow.chat(classifyRequest()));
            assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
        }

        int closed;
        try (var socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        try (var refused = new OpenAiModelClient(ModelSpec.openai("down", endpoint("http://127.0.0.1:" + closed + "/v1",
                StructuredOutput.JSON_SCHEMA, null, Duration.ofSeconds(2), ApiKeySource.none()), Set.of()))) {
            var e = catchThrowableOfType(ModelCallException.class, () -> refused.chat(classifyRequest()));
            assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
            assertThat(e.getMessage()).contains("down").contains("cannot connect");
        }
    }

    /**
     * JSON that is not a completion (a gateway's "{}", an error object with status 200): the SDK reads it lazily and
     * threw its invalid-data error from the choices, which reached the worker as an unexpected failure (INTERNAL, no
     * failover) instead of a malformed answer.
     */
    @Test
    void jsonThatIsNotACompletionIsAMalformedAnswer() throws Exception {
        for (var body : new String[] {"{}", "{\"error\":{\"message\":\"upstream timed out\"}}",
                "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{}]}"}) {
            server.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
                    .withHeader("Content-Type", "application/json").withBody(body)));
            try (var client = client(StructuredOutput.JSON_SCHEMA, null)) {
                var e = catchThrowableOfType(ModelCallException.class, () -> client.chat(classifyRequest()));
                assertThat(e).as(body).isNotNull();
                assertThat(e.kind()).as(body).isEqualTo(Kind.UNAVAILABLE);
                assertThat(e.getMessage()).as(body).contains("malformed");
            }
        }
    }

    @Test
    void aMalformedAnswerIsUnavailableAndAMissingKeyIsAuthWithoutACall() throws Exception {
        server.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("<html>gateway</html>")));
        try (var client = client(StructuredOutput.JSON_SCHEMA, null)) {
            var e = catchThrowableOfType(ModelCallException.class, () -> client.chat(classifyRequest()));
            assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
        }
        server.resetAll();
        try (var unset = new OpenAiModelClient(ModelSpec.openai("unset", endpoint(server.baseUrl() + "/v1",
                StructuredOutput.JSON_SCHEMA, null, Duration.ofSeconds(2),
                ApiKeySource.env("TANDEM_TEST_UNSET_KEY", name -> null)), Set.of()))) {
            assertThat(unset.availability().available()).isFalse();
            assertThat(unset.availability().detail()).contains("TANDEM_TEST_UNSET_KEY");
            var e = catchThrowableOfType(ModelCallException.class, () -> unset.chat(classifyRequest()));
            assertThat(e.kind()).isEqualTo(Kind.AUTH);
        }
        server.verify(0, postRequestedFor(urlEqualTo("/v1/chat/completions")));
    }

    @Test
    void aRotatedKeyFileIsPickedUpOnTheNextCall() throws Exception {
        server.stubFor(post("/v1/chat/completions").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody(COMPLETION)));
        var rotating = dir.resolve("rotating-key");
        Files.writeString(rotating, "sk-old-key");
        try (var client = new OpenAiModelClient(ModelSpec.openai("rot", endpoint(server.baseUrl() + "/v1",
                StructuredOutput.JSON_SCHEMA, null, Duration.ofSeconds(2), ApiKeySource.file(rotating)), Set.of()))) {
            client.chat(classifyRequest());
            Files.writeString(rotating, "sk-new-key");
            client.chat(classifyRequest());
        }
        server.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withHeader("Authorization", equalTo("Bearer sk-old-key")));
        server.verify(1, postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withHeader("Authorization", equalTo("Bearer sk-new-key")));
    }


}
