package dev.tandem.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.jboss.logmanager.LogManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static dev.tandem.worker.ExecuteStepTests.step;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

/** The worker's LLM path over gRPC against stub vLLM and Anthropic servers. */
@QuarkusTest
@QuarkusTestResource(ModelStubs.class)
class LlmStepTests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = "/vllm/v1/chat/completions";
    private static final String MESSAGES = "/anthropic/v1/messages";

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    @BeforeEach
    void reset() {
        ModelStubs.server.resetAll();
    }

    /** An OpenAI-format completion whose content is the given tokens with their probabilities and alternatives. */
    static String completion(List<Object[]> tokens, int promptTokens, int cached) {
        var root = JsonNodeFactory.instance.objectNode();
        root.put("id", "chatcmpl-test").put("object", "chat.completion").put("created", 1741569952)
                .put("model", "Qwen/Qwen2.5-7B-Instruct");
        var choice = root.putArray("choices").addObject();
        choice.put("index", 0).put("finish_reason", "stop");
        var content = new StringBuilder();
        var logprobs = choice.putObject("logprobs").putArray("content");
        for (var t : tokens) {
            var text = (String) t[0];
            content.append(text);
            var token = logprobs.addObject().put("token", text).put("logprob", Math.log((double) t[1]));
            token.putNull("bytes");
            ArrayNode top = token.putArray("top_logprobs");
            top.addObject().put("token", text).put("logprob", Math.log((double) t[1])).putNull("bytes");
            for (int i = 2; i + 1 < t.length; i += 2) {
                top.addObject().put("token", (String) t[i]).put("logprob", Math.log((double) t[i + 1])).putNull("bytes");
            }
        }
        choice.putObject("message").put("role", "assistant").put("content", content.toString());
        root.putObject("usage").put("prompt_tokens", promptTokens).put("completion_tokens", tokens.size())
                .put("total_tokens", promptTokens + tokens.size())
                .putObject("prompt_tokens_details").put("cached_tokens", cached);
        return root.toString();
    }

    private static void answer(String body) {
        ModelStubs.server.stubFor(post(CHAT).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody(body)));
    }

    @Test
    void anUnsureClassificationWhoseAlternativesAreNotLabelsIsReportedUnsure() throws Exception {
        // 0.30 on the label, the rest on tokens that start no label: not 1.00 as a renormalisation over the
        // labels alone would say
        answer(completion(List.<Object[]>of(new Object[] {"{\"", 1.0}, new Object[] {"label", 1.0},
                new Object[] {"\":\"", 1.0}, new Object[] {"billing", 0.30, "I", 0.40, "Sorry", 0.25},
                new Object[] {"\"}", 1.0}), 300, 0));

        var response = worker.executeStep(step("classify", Map.of("text", "Hmm."), "stub-vllm").build());

        assertThat(JSON.readTree(response.getOutput()).get("label").asText()).isEqualTo("billing");
        assertThat(response.getRawConfidence()).isCloseTo(0.30 / 0.95, within(1e-3)).isLessThan(0.35);
        assertThat(response.getConfidenceMethod()).isEqualTo("label-probability");
    }

    @Test
    void classifiesWithLabelProbabilityFromTopLogprobsRenormalisedOverTheLabels() throws Exception {
        answer(completion(List.<Object[]>of(new Object[] {"{\"", 1.0}, new Object[] {"label", 1.0},
                new Object[] {"\":\"", 1.0}, new Object[] {"billing", 0.6, "shipping", 0.2, "Billing", 0.1},
                new Object[] {"\"}", 1.0}), 300, 256));

        var response = worker.executeStep(step("classify", Map.of("text", "I was charged twice."), "stub-vllm")
                .setInstructions("Prefer billing for payment issues.").build());

        var out = JSON.readTree(response.getOutput());
        assertThat(out.get("label").asText()).isEqualTo("billing");
        // billing 0.6 + Billing 0.1 vs shipping 0.2, over the five declared labels
        assertThat(response.getRawConfidence()).isCloseTo(0.7 / 0.9, within(1e-3));
        assertThat(out.at("/probabilities/shipping").asDouble()).isCloseTo(0.2 / 0.9, within(1e-3));
        assertThat(response.hasField(ExecuteStepResponse.getDescriptor().findFieldByName("confidence")))
                .as("the deprecated duplicate of raw_confidence is not sent").isFalse();
        assertThat(response.getConfidenceMethod()).isEqualTo("label-probability");
        assertThat(response.getValidation().getPassed()).isTrue();
        assertThat(response.getUsage().getInputTokens()).isEqualTo(44);
        assertThat(response.getUsage().getCachedInputTokens()).isEqualTo(256);
        assertThat(response.getUsage().getEstimated()).isFalse();

        ModelStubs.server.verify(postRequestedFor(urlEqualTo(CHAT))
                .withHeader("Authorization", equalTo("Bearer " + ModelStubs.VLLM_KEY))
                .withHeader("X-Tenant", equalTo("tandem-tests"))
                .withRequestBody(matchingJsonPath("$.model", equalTo("Qwen/Qwen2.5-7B-Instruct")))
                .withRequestBody(matchingJsonPath("$.response_format.json_schema.schema.properties.label.enum[0]",
                        equalTo("billing")))
                .withRequestBody(matchingJsonPath("$.logprobs", equalTo("true")))
                .withRequestBody(matchingJsonPath("$.top_logprobs", equalTo("10")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", com.github.tomakehurst.wiremock.client.WireMock
                        .containing("- shipping: Delivery and shipping")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", com.github.tomakehurst.wiremock.client.WireMock
                        .containing("Additional instructions: Prefer billing"))));
    }

    private ExecuteStepResponse solveWith(List<Object[]> tokens) {
        answer(completion(tokens, 90, 0));
        return worker.executeStep(step("solve", Map.of("question", "What is 48 / 2?"), "stub-vllm").build());
    }

    @Test
    void aLowerProbabilityAnswerGetsLowerConfidenceWhateverItsLength() throws Exception {
        // long, every token sure
        var longSure = new ArrayList<Object[]>();
        longSure.add(new Object[] {"{\"reasoning\":\"", 0.99});
        for (int i = 0; i < 60; i++) {
            longSure.add(new Object[] {"half of 48 ", 0.97});
        }
        longSure.add(new Object[] {"is 48 / 2 = 24", 0.97});
        longSure.add(new Object[] {"\",\"answer\":", 0.99});
        longSure.add(new Object[] {"24", 0.98});
        longSure.add(new Object[] {"}", 0.99});
        // short, one doubtful digit
        var shortDoubtful = List.<Object[]>of(new Object[] {"{\"reasoning\":\"", 0.99}, new Object[] {"48 / 2 = 24", 0.9},
                new Object[] {"\",\"answer\":", 0.99}, new Object[] {"24", 0.35, "42", 0.3}, new Object[] {"}", 0.99});

        var sure = solveWith(longSure);
        var doubtful = solveWith(shortDoubtful);

        assertThat(sure.getConfidenceMethod()).isEqualTo("answer-span-quantile");
        assertThat(sure.getValidation().getPassed()).isTrue();
        assertThat(doubtful.getValidation().getPassed()).isTrue();
        assertThat(sure.getRawConfidence()).isGreaterThan(0.9);
        assertThat(doubtful.getRawConfidence()).isLessThan(sure.getRawConfidence()).isLessThan(0.6);
    }

    @Test
    void aMultipleChoiceAnswerIsConstrainedToTheOptionLettersAndScoredOnItsOwnTokens() throws Exception {
        answer(completion(List.<Object[]>of(new Object[] {"{\"reasoning\":\"Whales breathe air.\",\"answer\":\"", 1.0},
                new Object[] {"C", 0.6, "A", 0.3}, new Object[] {"\"}", 1.0}), 80, 0));

        var response = worker.executeStep(step("answer", Map.of("question", "Which of these is a mammal?",
                "choices", "A) shark\nB) trout\nC) whale"), "stub-vllm").build());

        assertThat(JSON.readTree(response.getOutput()).get("answer").asText()).isEqualTo("C");
        assertThat(response.getConfidenceMethod()).isEqualTo("answer-span-quantile");
        assertThat(response.getRawConfidence()).isCloseTo(0.6, within(1e-6));
        assertThat(response.getValidation().getPassed()).isTrue();
        ModelStubs.server.verify(postRequestedFor(urlEqualTo(CHAT))
                .withRequestBody(matchingJsonPath("$.response_format.json_schema.schema.properties.answer.enum[2]",
                        equalTo("C")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", com.github.tomakehurst.wiremock.client.WireMock
                        .containing("C) whale"))));
    }

    @Test
    void aModelWithoutLogprobsStatesItsConfidenceInTheSchema() throws Exception {
        answer(completion(List.<Object[]>of(new Object[] {"{\"label\":\"shipping\",\"confidence\":0.83}", 1.0}), 200, 0));

        var response = worker.executeStep(step("classify", Map.of("text", "Where is my parcel?"),
                "stub-vllm-nologprobs").build());

        assertThat(response.getConfidenceMethod()).isEqualTo("verbalized-confidence");
        assertThat(response.getRawConfidence()).isCloseTo(0.83, within(1e-9));
        assertThat(JSON.readTree(response.getOutput()).has("confidence")).isFalse();
        ModelStubs.server.verify(postRequestedFor(urlEqualTo(CHAT))
                .withRequestBody(matchingJsonPath("$.response_format.json_schema.schema.required[1]", equalTo("confidence")))
                .withRequestBody(matchingJsonPath("$.logprobs", com.github.tomakehurst.wiremock.client.WireMock.absent())));
    }

    @Test
    void solvesOnAnthropicThroughTheAnswerToolWithArithmeticEvidence() throws Exception {
        ModelStubs.server.stubFor(post(MESSAGES).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("""
                        {"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
                         "content":[{"type":"tool_use","id":"toolu_01","name":"answer",
                                     "input":{"reasoning":"She sells 48 / 2 = 24 rolls, so 48 - 24 = 24 are left.","answer":24}}],
                         "stop_reason":"tool_use","stop_sequence":null,
                         "usage":{"input_tokens":150,"cache_creation_input_tokens":0,"cache_read_input_tokens":1024,"output_tokens":40}}
                        """)));

        var response = worker.executeStep(step("solve", Map.of("question",
                "A baker makes 48 rolls and sells half. How many are left?"), "stub-claude").build());

        assertThat(JSON.readTree(response.getOutput()).get("answer").asDouble()).isEqualTo(24.0);
        assertThat(response.getConfidenceMethod()).isEqualTo("arithmetic-evidence");
        assertThat(response.getValidation().getPassed()).isTrue();
        assertThat(response.getRawConfidence()).isCloseTo(5.0 / 6.0, within(1e-9));
        assertThat(response.getUsage().getCachedInputTokens()).isEqualTo(1024);
        ModelStubs.server.verify(postRequestedFor(urlEqualTo(MESSAGES))
                .withRequestBody(matchingJsonPath("$.tool_choice.name", equalTo("answer")))
                .withRequestBody(matchingJsonPath("$.tools[0].input_schema.properties.answer.type", equalTo("number"))));
    }

    private StatusRuntimeException fails(int status, String body, String... headers) {
        var response = aResponse().withStatus(status).withHeader("Content-Type", "application/json").withBody(body);
        for (int i = 0; i < headers.length; i += 2) {
            response.withHeader(headers[i], headers[i + 1]);
        }
        ModelStubs.server.stubFor(post(CHAT).willReturn(response));
        return catchThrowableOfType(StatusRuntimeException.class, () -> worker.executeStep(
                step("classify", Map.of("text", "I was charged twice."), "stub-vllm").build()));
    }

    private static <T extends com.google.protobuf.Message> T detail(StatusRuntimeException e, Class<T> type)
            throws Exception {
        for (var any : StatusProto.fromThrowable(e).getDetailsList()) {
            if (any.is(type)) {
                return any.unpack(type);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " detail in " + e.getStatus());
    }

    @Test
    void eachProviderErrorClassBecomesAStatusTheRouterCanActOnAndNoKeyIsEverLogged() throws Exception {
        var captured = new ArrayList<String>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                var text = new StringBuilder(String.valueOf(record.getMessage()));
                if (record.getParameters() != null) {
                    for (var p : record.getParameters()) {
                        text.append(' ').append(p);
                    }
                }
                if (record.getThrown() != null) {
                    var trace = new StringWriter();
                    record.getThrown().printStackTrace(new PrintWriter(trace));
                    text.append(' ').append(trace);
                }
                captured.add(text.toString());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        var root = LogManager.getLogManager().getLogger("");
        root.addHandler(capture);
        var statuses = new ArrayList<StatusRuntimeException>();
        try {
            var limited = fails(429, "{\"error\":{\"message\":\"Rate limit reached, please try again in 2s.\",\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}",
                    "Retry-After", "2");
            statuses.add(limited);
            assertThat(limited.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(detail(limited, RetryInfo.class).getRetryDelay().getSeconds()).isEqualTo(2);
            assertThat(detail(limited, ErrorInfo.class).getReason()).isEqualTo("RATE_LIMITED");
            assertThat(detail(limited, ErrorInfo.class).getMetadataMap()).containsEntry("model", "stub-vllm");

            var down = fails(503, "{\"object\":\"error\",\"message\":\"The engine is overloaded\",\"type\":\"ServiceUnavailableError\",\"code\":503}");
            statuses.add(down);
            assertThat(down.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);

            var rejected = fails(400, "{\"object\":\"error\",\"message\":\"This model's maximum context length is 4096 tokens.\",\"type\":\"BadRequestError\",\"code\":400}");
            statuses.add(rejected);
            assertThat(rejected.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(rejected.getStatus().getDescription()).contains("stub-vllm").contains("maximum context length");

            var masked = ModelStubs.VLLM_KEY.substring(0, 7) + "*".repeat(16) + ModelStubs.VLLM_KEY.substring(30);
            var unauthorised = fails(401, "{\"error\":{\"message\":\"Incorrect API key provided: " + masked
                    + ".\",\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}");
            statuses.add(unauthorised);
            assertThat(unauthorised.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(unauthorised.getStatus().getDescription()).contains("stub-vllm");

            var forbidden = fails(403, "{\"error\":{\"message\":\"not allowed\",\"type\":\"permission_error\"}}");
            statuses.add(forbidden);
            assertThat(forbidden.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);

            ModelStubs.server.stubFor(post(CHAT).willReturn(aResponse().withStatus(200).withFixedDelay(3000)
                    .withHeader("Content-Type", "application/json").withBody("{}")));
            var slow = catchThrowableOfType(StatusRuntimeException.class, () -> worker.executeStep(
                    step("classify", Map.of("text", "I was charged twice."), "stub-slow").build()));
            statuses.add(slow);
            assertThat(slow.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);

            var refused = catchThrowableOfType(StatusRuntimeException.class, () -> worker.executeStep(
                    step("classify", Map.of("text", "I was charged twice."), "stub-refused").build()));
            statuses.add(refused);
            assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);

            // and a successful call
            answer(completion(List.<Object[]>of(new Object[] {"{\"label\":\"billing\"}", 0.9}), 10, 0));
            worker.executeStep(step("classify", Map.of("text", "I was charged twice."), "stub-vllm").build());
        } finally {
            root.removeHandler(capture);
        }
        var secrets = List.of(ModelStubs.VLLM_KEY, ModelStubs.ANTHROPIC_KEY, "5e1f0c9a8b7d6SECRET");
        assertThat(captured).isNotEmpty().anySatisfy(line -> assertThat(line).contains("stub-vllm"));
        for (var line : captured) {
            for (var secret : secrets) {
                assertThat(line).doesNotContain(secret);
            }
        }
        for (var status : statuses) {
            for (var secret : secrets) {
                assertThat(status.getStatus().getDescription()).doesNotContain(secret);
            }
        }
        var models = given().when().get("/api/models").then().statusCode(200).extract().asString();
        for (var secret : secrets) {
            assertThat(models).doesNotContain(secret);
        }
        assertThat(models).contains("file ");
    }
}
