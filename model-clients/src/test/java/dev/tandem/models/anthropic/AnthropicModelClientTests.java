package dev.tandem.models.anthropic;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.tandem.models.ApiKeySource;
import dev.tandem.models.Endpoint;
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

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The Anthropic client against a stub that answers with the Messages API's real bodies and SSE events. */
class AnthropicModelClientTests {

    static final String KEY = "sk-ant-api03-test-9d8c7b6a5SECRET";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static WireMockServer server;

    @BeforeAll
    static void start() {
        server = new WireMockServer(options().dynamicPort());
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    @BeforeEach
    void reset() {
        server.resetAll();
    }

    private AnthropicModelClient client() {
        var endpoint = new Endpoint(URI.create(server.baseUrl()), "claude-sonnet-4-5",
                ApiKeySource.env("ANTHROPIC_API_KEY", name -> KEY), Duration.ofSeconds(2), Duration.ofSeconds(5),
                Map.of("X-Team", "oracle"), Endpoint.StructuredOutput.TOOL, false, null,
                Endpoint.MaxTokensField.MAX_TOKENS, 1024);
        return new AnthropicModelClient(ModelSpec.anthropic("claude-oracle", endpoint, Set.of("generation", "json_schema")));
    }

    static ChatRequest solveRequest() throws Exception {
        return ChatRequest.builder().system("You solve math word problems.").user("What is 48 / 2?")
                .responseSchema(new ResponseSchema("solve", JSON.readTree("""
                        {"type":"object","required":["reasoning","answer"],"additionalProperties":false,
                         "properties":{"reasoning":{"type":"string"},"answer":{"type":"number"}}}""")))
                .maxTokens(512).temperature(0).build();
    }

    @Test
    void asksForTheAnswerAsAForcedToolAndReadsItsInputAndCacheUsage() throws Exception {
        server.stubFor(post("/v1/messages").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("""
                        {"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
                         "content":[{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"answer",
                                     "input":{"reasoning":"48 / 2 = 24","answer":24}}],
                         "stop_reason":"tool_use","stop_sequence":null,
                         "usage":{"input_tokens":21,"cache_creation_input_tokens":100,"cache_read_input_tokens":300,"output_tokens":34,"service_tier":"standard"}}
                        """)));

        try (var client = client()) {
            var response = client.chat(solveRequest());
            assertThat(JSON.readTree(response.text()).get("answer").asInt()).isEqualTo(24);
            assertThat(response.finishReason()).isEqualTo(FinishReason.TOOL_USE);
            assertThat(response.usage().inputTokens()).isEqualTo(121);
            assertThat(response.usage().cacheWriteInputTokens()).isEqualTo(100);
            assertThat(response.usage().cachedInputTokens()).isEqualTo(300);
            assertThat(response.usage().outputTokens()).isEqualTo(34);
            assertThat(response.hasLogprobs()).isFalse();
        }
        server.verify(1, postRequestedFor(urlEqualTo("/v1/messages"))
                // anthropic-java 3.x sends the key as a bearer credential with its API version header
                .withHeader("Authorization", equalTo("Bearer " + KEY))
                .withHeader("anthropic-version", matching("\\d{4}-\\d{2}-\\d{2}"))
                .withHeader("X-Team", equalTo("oracle"))
                .withRequestBody(matchingJsonPath("$.model", equalTo("claude-sonnet-4-5")))
                .withRequestBody(matchingJsonPath("$.max_tokens", equalTo("512")))
                .withRequestBody(matchingJsonPath("$.system", equalTo("You solve math word problems.")))
                .withRequestBody(matchingJsonPath("$.messages[0].role", equalTo("user")))
                .withRequestBody(matchingJsonPath("$.tools[0].name", equalTo("answer")))
                .withRequestBody(matchingJsonPath("$.tools[0].input_schema.properties.answer.type", equalTo("number")))
                .withRequestBody(matchingJsonPath("$.tool_choice.type", equalTo("tool")))
                .withRequestBody(matchingJsonPath("$.tool_choice.name", equalTo("answer")))
                .withRequestBody(matchingJsonPath("$.temperature", equalTo("0.0"))));
    }

    @Test
    void streamsTextDeltasAndEndsWithUsage() throws Exception {
        var sse = """
                event: message_start
                data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"output_tokens":1}}}

                event: content_block_start
                data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

                event: ping
                data: {"type": "ping"}

                event: content_block_delta
                data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"The refund "}}

                event: content_block_delta
                data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"was issued."}}

                event: content_block_stop
                data: {"type":"content_block_stop","index":0}

                event: message_delta
                data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}

                event: message_stop
                data: {"type":"message_stop"}

                """;
        server.stubFor(post("/v1/messages").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "text/event-stream").withBody(sse)));

        var deltas = new ArrayList<String>();
        try (var client = client()) {
            var response = client.stream(ChatRequest.builder().user("Summarise the ticket.").build(), deltas::add);
            assertThat(deltas).containsExactly("The refund ", "was issued.");
            assertThat(response.text()).isEqualTo("The refund was issued.");
            assertThat(response.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(response.usage().inputTokens()).isEqualTo(25);
            assertThat(response.usage().cachedInputTokens()).isEqualTo(2048);
            assertThat(response.usage().outputTokens()).isEqualTo(9);
        }
        server.verify(postRequestedFor(urlEqualTo("/v1/messages"))
                .withRequestBody(matchingJsonPath("$.stream", equalTo("true"))));
    }

    private ModelCallException failure(int status, String type, String message, String... headers) throws Exception {
        var response = aResponse().withStatus(status).withHeader("Content-Type", "application/json")
                .withBody("{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":\"" + message + "\"},"
                        + "\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}");
        for (int i = 0; i < headers.length; i += 2) {
            response.withHeader(headers[i], headers[i + 1]);
        }
        server.stubFor(post("/v1/messages").willReturn(response));
        try (var client = client()) {
            return catchThrowableOfType(ModelCallException.class, () -> client.chat(solveRequest()));
        }
    }

    @Test
    void mapsEachErrorClassAndDoesNotRetry() throws Exception {
        var limited = failure(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit",
                "retry-after", "12");
        assertThat(limited.kind()).isEqualTo(Kind.RATE_LIMITED);
        assertThat(limited.retryAfter()).contains(Duration.ofSeconds(12));
        server.verify(1, postRequestedFor(urlEqualTo("/v1/messages")));

        assertThat(failure(529, "overloaded_error", "Overloaded").kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(failure(500, "api_error", "Internal server error").kind()).isEqualTo(Kind.UNAVAILABLE);
        var bad = failure(400, "invalid_request_error", "max_tokens: 100000 > 64000, which is the maximum allowed");
        assertThat(bad.kind()).isEqualTo(Kind.BAD_REQUEST);
        assertThat(bad.providerMessage()).contains("max_tokens");
        var auth = failure(401, "authentication_error", "invalid x-api-key");
        assertThat(auth.kind()).isEqualTo(Kind.AUTH);
        assertThat(auth.getMessage()).doesNotContain(KEY);
        assertThat(failure(403, "permission_error", "Your API key does not have permission to use the specified resource.")
                .httpStatus()).isEqualTo(403);
    }

    @Test
    void aRotatedKeyFileIsPickedUpOnTheNextCall(@TempDir Path dir) throws Exception {
        server.stubFor(post("/v1/messages").willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("""
                        {"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
                         "content":[{"type":"tool_use","id":"toolu_01","name":"answer",
                                     "input":{"reasoning":"48 / 2 = 24","answer":24}}],
                         "stop_reason":"tool_use","stop_sequence":null,
                         "usage":{"input_tokens":21,"output_tokens":34}}
                        """)));
        var rotating = dir.resolve("anthropic-key");
        Files.writeString(rotating, "sk-ant-old-key");
        var endpoint = new Endpoint(URI.create(server.baseUrl()), "claude-sonnet-4-5", ApiKeySource.file(rotating),
                Duration.ofSeconds(2), Duration.ofSeconds(5), Map.of(), Endpoint.StructuredOutput.TOOL, false, null,
                Endpoint.MaxTokensField.MAX_TOKENS, 1024);
        try (var client = new AnthropicModelClient(ModelSpec.anthropic("claude-rot", endpoint,
                Set.of("generation", "json_schema")))) {
            client.chat(solveRequest());
            Files.writeString(rotating, "sk-ant-new-key");
            client.chat(solveRequest());
        }
        server.verify(1, postRequestedFor(urlEqualTo("/v1/messages"))
                .withHeader("Authorization", equalTo("Bearer sk-ant-old-key")));
        server.verify(1, postRequestedFor(urlEqualTo("/v1/messages"))
                .withHeader("Authorization", equalTo("Bearer sk-ant-new-key")));
    }
}
