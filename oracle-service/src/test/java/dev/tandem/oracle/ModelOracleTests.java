package dev.tandem.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.tandem.fakes.FakeRouter;
import dev.tandem.oracle.fakes.OracleModelStub;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.PlanStep;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.TaskEvent;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static dev.tandem.oracle.TestPlans.violations;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

/**
 * An LLM oracle: planning and synthesis on the oracle's own chat model, here an OpenAI-compatible stub that answers
 * with real Chat Completions bodies (and SSE chunks for the streamed answer). The model plans freely; answers that
 * are not a plan, or invalid plans (cycles, unknown worker types, too many steps), go back to it with the
 * violations; its tokens are priced on the router's catalog.
 */
@QuarkusTest
@TestProfile(ModelOracleTests.LlmOracleProfile.class)
class ModelOracleTests extends OracleTestBase {

    public static class LlmOracleProfile implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OracleModelStub.class));
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TASK = "Work out what this customer wants and what they told us";
    private static final String CHAT = "/v1/chat/completions";

    private static WireMockServer stub() {
        return OracleModelStub.server;
    }

    @BeforeEach
    void resetStub() {
        stub().resetAll();
    }

    static String plan(String rationale, String... steps) {
        return "{\"rationale\":\"" + rationale + "\",\"steps\":[" + String.join(",", steps) + "]}";
    }

    static String step(String id, String type, String inputs, String... dependsOn) {
        var deps = new ArrayList<String>();
        for (var d : dependsOn) {
            deps.add("\"" + d + "\"");
        }
        return "{\"id\":\"" + id + "\",\"worker_type\":\"" + type + "\",\"inputs\":" + inputs
                + ",\"depends_on\":[" + String.join(",", deps) + "]}";
    }

    static final String VALID = plan("Classify the ticket and pull out its facts in parallel, then check the facts.",
            step("label", "classify", "{\"text\":\"{{inputs.document}}\"}"),
            step("facts", "extract", "{\"text\":\"{{inputs.document}}\"}"),
            step("check", "validate", "{\"source\":\"{{inputs.document}}\",\"candidate\":\"{{steps.facts.output}}\"}",
                    "facts"));

    static String completion(String content, int in, int out, int cached) throws Exception {
        var body = JSON.createObjectNode();
        body.put("id", "chatcmpl-7a1").put("object", "chat.completion").put("created", 1764600000)
                .put("model", "gpt-4o-2024-08-06").put("system_fingerprint", "fp_test");
        var choice = body.putArray("choices").addObject();
        choice.put("index", 0).put("finish_reason", "stop").putNull("logprobs");
        choice.putObject("message").put("role", "assistant").put("content", content).putNull("refusal");
        var usage = body.putObject("usage").put("prompt_tokens", in).put("completion_tokens", out)
                .put("total_tokens", in + out);
        usage.putObject("prompt_tokens_details").put("cached_tokens", cached);
        return JSON.writeValueAsString(body);
    }

    static String sse(List<String> pieces, int in, int out) throws Exception {
        var events = new StringBuilder();
        for (int i = 0; i < pieces.size(); i++) {
            var chunk = JSON.createObjectNode().put("id", "chatcmpl-7a2").put("object", "chat.completion.chunk")
                    .put("created", 1764600001).put("model", "gpt-4o-2024-08-06");
            var delta = chunk.putArray("choices").addObject().put("index", 0).putNull("finish_reason")
                    .putObject("delta");
            if (i == 0) {
                delta.put("role", "assistant");
            }
            delta.put("content", pieces.get(i));
            events.append("data: ").append(JSON.writeValueAsString(chunk)).append("\n\n");
        }
        var last = JSON.createObjectNode().put("id", "chatcmpl-7a2").put("object", "chat.completion.chunk")
                .put("created", 1764600001).put("model", "gpt-4o-2024-08-06");
        last.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop").putObject("delta");
        events.append("data: ").append(JSON.writeValueAsString(last)).append("\n\n");
        var usage = JSON.createObjectNode().put("id", "chatcmpl-7a2").put("object", "chat.completion.chunk")
                .put("created", 1764600001).put("model", "gpt-4o-2024-08-06");
        usage.putArray("choices");
        usage.putObject("usage").put("prompt_tokens", in).put("completion_tokens", out).put("total_tokens", in + out);
        events.append("data: ").append(JSON.writeValueAsString(usage)).append("\n\n").append("data: [DONE]\n\n");
        return events.toString();
    }

    /** The planning calls answer these, in order. */
    static void planningAnswers(String... contents) throws Exception {
        var state = Scenario.STARTED;
        for (int i = 0; i < contents.length; i++) {
            var next = "answer-" + (i + 1);
            stub().stubFor(post(CHAT).inScenario("planning").whenScenarioStateIs(state).willSetStateTo(next)
                    .withRequestBody(matchingJsonPath("$.response_format.json_schema.name", equalTo("tandem_plan")))
                    .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                            .withBody(completion(contents[i], 800 + 100 * i, 90, 0))));
            state = next;
        }
    }

    static void synthesisAnswer(String... pieces) throws Exception {
        stub().stubFor(post(CHAT).withRequestBody(matchingJsonPath("$.stream", equalTo("true")))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/event-stream")
                        .withBody(sse(List.of(pieces), 300, 12))));
    }

    private static List<JsonNode> planningRequests() throws Exception {
        var out = new ArrayList<JsonNode>();
        for (var r : stub().findAll(postRequestedFor(urlEqualTo(CHAT))
                .withRequestBody(matchingJsonPath("$.response_format.json_schema.name", equalTo("tandem_plan"))))) {
            out.add(JSON.readTree(r.getBodyAsString()));
        }
        return out;
    }

    private ExecuteRequest task() {
        return ExecuteRequest.newBuilder().setTask(TASK).putInputs("document", ticket()).build();
    }

    @Test
    void theModelPlansFreelyAndItsAnswerStreams() throws Exception {
        planningAnswers(VALID);
        synthesisAnswer("The customer was charged twice ", "for ORD-48213 and wants the second payment refunded.");

        var events = new ArrayList<TaskEvent>();
        oracle().executeStream(task()).forEachRemaining(events::add);
        var response = events.getLast().getTaskDone().getResponse();

        assertThat(response.getPlan().getPlanner()).isEqualTo(FakeRouter.LLM_ORACLE);
        assertThat(response.getPlan().getRationale()).startsWith("Classify the ticket");
        assertThat(response.getPlan().getStepsList()).extracting(PlanStep::getId).containsExactly("label", "facts", "check");
        assertThat(router.dispatches).extracting(d -> d.getStepId()).containsExactlyInAnyOrder("label", "facts", "check");

        // the answer streams after the steps, in order, and is kept in the output with the step results
        var deltas = events.stream().filter(TaskEvent::hasAnswerDelta).map(e -> e.getAnswerDelta().getText()).toList();
        assertThat(String.join("", deltas))
                .isEqualTo("The customer was charged twice for ORD-48213 and wants the second payment refunded.");
        int firstDelta = IntStream.range(0, events.size()).filter(i -> events.get(i).hasAnswerDelta()).min().orElseThrow();
        int lastAudit = IntStream.range(0, events.size()).filter(i -> events.get(i).hasStepAudited()).max().orElseThrow();
        assertThat(firstDelta).isGreaterThan(lastAudit);
        var output = JSON.readTree(response.getOutput());
        assertThat(output.get("answer").asText()).isEqualTo(String.join("", deltas));
        assertThat(output.get("label").get("label").asText()).isEqualTo("billing");

        // planning (800 in, 90 out) and synthesis (300 in, 12 out) at the catalog's gpt-4o prices, in both totals
        double own = ((800 + 300) * FakeRouter.LLM_IN + (90 + 12) * FakeRouter.LLM_OUT) / 1e6;
        double steps = response.getStepsList().stream().mapToDouble(StepResult::getCostUsd).sum();
        assertThat(response.getCost().getActualUsd()).isCloseTo(steps + own, within(1e-12));
        assertThat(response.getCost().getAllOracleUsd()).isGreaterThan(own);

        // what the oracle sent: the configured model, the key, the plan schema, the task, its inputs and worker types
        var request = planningRequests().getFirst();
        assertThat(request.get("model").asText()).isEqualTo("gpt-4o-2024-08-06");
        assertThat(request.at("/response_format/type").asText()).isEqualTo("json_schema");
        assertThat(request.at("/response_format/json_schema/schema/properties/steps/maxItems").asInt()).isEqualTo(32);
        var prompt = request.at("/messages/1/content").asText();
        assertThat(prompt).contains(TASK, "document (", "classify", "extract", "summarize", "validate");
        stub().verify(postRequestedFor(urlEqualTo(CHAT)).withHeader("Authorization", equalTo("Bearer " + OracleModelStub.KEY)));
        stub().verify(postRequestedFor(urlEqualTo(CHAT)).withRequestBody(matchingJsonPath("$.stream", equalTo("true")))
                .withRequestBody(matchingJsonPath("$.messages[1].content",
                        com.github.tomakehurst.wiremock.client.WireMock.containing("\"label\":\"billing\""))));
    }

    @Test
    void anAnswerThatIsNotAPlanAndACyclicPlanAreRepairedInTheSameConversation() throws Exception {
        var cyclic = plan("loop", step("a", "classify", "{\"text\":\"{{inputs.document}}\"}", "b"),
                step("b", "classify", "{\"text\":\"{{inputs.document}}\"}", "a"));
        planningAnswers("Sure! I would classify the ticket first.", cyclic, VALID);
        synthesisAnswer("Done.");

        var response = oracle().execute(task());

        assertThat(response.getPlan().getStepsList()).extracting(PlanStep::getId).containsExactly("label", "facts", "check");
        var requests = planningRequests();
        assertThat(requests).hasSize(3);
        assertThat(requests.get(1).at("/messages/2/content").asText()).isEqualTo("Sure! I would classify the ticket first.");
        assertThat(requests.get(1).at("/messages/3/content").asText()).contains("plan: the answer is not valid JSON");
        assertThat(requests.get(2).at("/messages/3/content").asText()).contains("cycle");
        // every planning call is paid for
        double own = ((800 + 900 + 1000 + 300) * FakeRouter.LLM_IN + (3 * 90 + 12) * FakeRouter.LLM_OUT) / 1e6;
        double steps = response.getStepsList().stream().mapToDouble(StepResult::getCostUsd).sum();
        assertThat(response.getCost().getActualUsd()).isCloseTo(steps + own, within(1e-12));
    }

    @Test
    void aPlanThatStaysInvalidIsRefusedWithItsViolationsAndNothingRuns() throws Exception {
        var unknown = plan("translate", step("t", "translate", "{\"text\":\"{{inputs.document}}\"}"));
        planningAnswers(unknown, unknown, unknown);

        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(task()));

        assertThat(e.getStatus().getDescription()).contains("still invalid after 2 repair(s)");
        assertThat(violations(e).get("plan.steps[0].worker_type")).contains("unknown worker type 'translate'");
        assertThat(planningRequests()).hasSize(3);
        assertThat(router.dispatches).isEmpty();
    }

    @Test
    void anOversizedPlanGoesBackToTheModel() throws Exception {
        var many = new ArrayList<String>();
        for (int i = 0; i < 40; i++) {
            many.add(step("s" + i, "classify", "{\"text\":\"{{inputs.document}}\"}"));
        }
        planningAnswers(plan("everything", many.toArray(String[]::new)), VALID);
        synthesisAnswer("Done.");

        var response = oracle().execute(task());

        assertThat(response.getPlan().getStepsCount()).isEqualTo(3);
        assertThat(planningRequests().get(1).at("/messages/3/content").asText()).contains("plan.steps").contains("32");
    }

    @Test
    void theOracleModelFailingIsAStatusTheClientCanActOn() {
        stub().stubFor(post(CHAT).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "3")
                .withHeader("Content-Type", "application/json")
                .withBody("{\"error\":{\"message\":\"Rate limit reached for gpt-4o\",\"type\":\"requests\","
                        + "\"code\":\"rate_limit_exceeded\"}}")));
        var limited = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(task()));
        assertThat(limited.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(limited.getStatus().getDescription()).contains("planning failed").contains("retry after 3000 ms");

        stub().resetAll();
        stub().stubFor(post(CHAT).willReturn(aResponse().withStatus(503).withBody("upstream overloaded")));
        var down = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(task()));
        assertThat(down.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(down.getStatus().getDescription()).doesNotContain(OracleModelStub.KEY);
        assertThat(router.dispatches).isEmpty();
    }
}
