package dev.tandem.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import dev.tandem.proto.worker.v1.WorkflowPhase;
import io.grpc.Status;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;

import static dev.tandem.worker.GrpcAssertions.failsWith;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

@QuarkusTest
class ExecuteStepTests {

    static final String CHEAP = "embedded-minilm";
    static final String ORACLE = "embedded-bge-oracle";
    private static final ObjectMapper JSON = new ObjectMapper();

    // No host or port: in tests Quarkus points the client at the application's own (random) port.
    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    static ExecuteStepRequest.Builder step(String workerType, Map<String, String> inputs, String model) {
        return ExecuteStepRequest.newBuilder().setTaskId("task-" + UUID.randomUUID()).setStepId("s1")
                .setWorkerType(workerType).putAllInputs(inputs).setModelId(model).setAttempt(1);
    }

    static JsonNode output(ExecuteStepResponse response) throws Exception {
        return JSON.readTree(response.getOutput());
    }

    @Test
    void classifiesABillingTicketAsBillingWithAProbabilityPerLabel() throws Exception {
        var response = worker.executeStep(step("classify", Map.of("text",
                "Hello, I was charged twice on my credit card for the March invoice, please refund one payment."),
                CHEAP).build());

        var out = output(response);
        assertThat(out.get("label").asText()).isEqualTo("billing");
        double sum = 0;
        for (var p : out.get("probabilities")) {
            sum += p.asDouble();
        }
        assertThat(sum).isCloseTo(1.0, within(0.01));
        assertThat(out.get("probabilities").size()).isEqualTo(5);
        assertThat(response.getRawConfidence())
                .isEqualTo(out.get("probabilities").get("billing").asDouble(), within(1e-3));
        assertThat(response.getConfidenceMethod()).isEqualTo("label-probability");
        assertThat(response.getValidation().getPassed()).isTrue();
        assertThat(response.getValidation().getGatesList()).extracting("name")
                .containsExactly("schema", "label-in-taxonomy");
        assertThat(response.getPhasesList()).extracting(WorkflowPhase::getName)
                .containsExactly("preflight", "implement", "validate", "checkpoint");
        assertThat(response.getUsage().getInputTokens()).isGreaterThan(10);
        assertThat(response.getUsage().getOutputTokens()).isGreaterThan(5);
        assertThat(response.getLatencyMs()).isPositive();
        assertThat(response.getModelId()).isEqualTo(CHEAP);
        assertThat(response.getFromCheckpoint()).isFalse();
    }

    @Test
    void classifiesWithAnotherTaxonomyAndWithAdHocLabels() throws Exception {
        var sentiment = worker.executeStep(step("classify", Map.of("taxonomy", "sentiment",
                "text", "Thank you so much, the new version is wonderful and I am really happy with it."), CHEAP).build());
        assertThat(output(sentiment).get("label").asText()).isEqualTo("positive");

        var adHoc = worker.executeStep(step("classify", Map.of("labels", "weather, cooking, football",
                "text", "Heavy rain and strong wind are expected tomorrow afternoon."), CHEAP).build());
        assertThat(output(adHoc).get("label").asText()).isEqualTo("weather");
        assertThat(output(adHoc).get("probabilities").size()).isEqualTo(3);
    }

    @Test
    void anAmbiguousTextGetsLowerConfidenceThanAClearOne() {
        var clear = worker.executeStep(step("classify", Map.of("text",
                "I cannot log in because the password reset email never arrives."), CHEAP).build());
        var ambiguous = worker.executeStep(step("classify", Map.of("text",
                "I have a question about something."), CHEAP).build());

        assertThat(ambiguous.getRawConfidence()).isLessThan(clear.getRawConfidence());
    }

    @Test
    void extractsAnEmailAndAnOrderIdAndListsWhatIsMissing() throws Exception {
        var text = "Hi, my order ORD-48213 arrived broken. Please reach me at jane.doe@example.com about a refund.";
        var response = worker.executeStep(step("extract", Map.of("text", text, "fields", "email,order_id,phone"),
                CHEAP).build());

        var out = output(response);
        assertThat(out.at("/fields/email").asText()).isEqualTo("jane.doe@example.com");
        assertThat(out.at("/fields/order_id").asText()).isEqualTo("ORD-48213");
        assertThat(out.at("/fields/phone").isNull()).isTrue();
        assertThat(out.get("missing")).extracting(JsonNode::asText).containsExactly("phone");
        assertThat(response.getValidation().getPassed()).isTrue();
        // Two of three requested fields found, each unambiguous.
        assertThat(response.getRawConfidence()).isCloseTo(2.0 / 3, within(1e-6));
    }

    @Test
    void extractPicksTheCandidateWhoseContextMatchesTheField() throws Exception {
        var text = "Our newsletter is sent from news@shop-mailer.com every week. "
                + "For this complaint, please contact the customer directly at his email address maria.lopez@gmail.com.";
        var response = worker.executeStep(step("extract", Map.of("text", text, "fields", "email"), ORACLE).build());

        assertThat(output(response).at("/fields/email").asText()).isEqualTo("maria.lopez@gmail.com");
        assertThat(response.getRawConfidence()).isBetween(0.0, 1.0).isLessThan(1.0);
    }

    @Test
    void summarySentencesComeFromTheText() throws Exception {
        var text = "The city council approved a new budget for public transport on Monday. "
                + "The plan adds forty electric buses and extends three tram lines. "
                + "Council members debated for six hours before the vote. "
                + "The weather was sunny and many residents walked in the park. "
                + "Ticket prices will stay the same until the end of next year.";
        var response = worker.executeStep(step("summarize", Map.of("text", text, "max_sentences", "2"), CHEAP).build());

        var out = output(response);
        assertThat(out.get("sentences")).hasSize(2);
        out.get("sentences").forEach(s -> assertThat(text).contains(s.asText()));
        assertThat(out.get("summary").asText()).doesNotContain("weather");
        assertThat(response.getValidation().getPassed()).isTrue();
        assertThat(response.getRawConfidence()).isBetween(0.5, 1.0);
    }

    @Test
    void validateFlagsAnInventedValue() throws Exception {
        var source = "Order ORD-1234 was placed by jane@example.com on 2024-05-17 for $49.99.";
        var faithful = worker.executeStep(step("validate", Map.of("source", source,
                "candidate", "{\"fields\":{\"email\":\"jane@example.com\",\"order_id\":\"ORD-1234\"}}"), CHEAP).build());
        var invented = worker.executeStep(step("validate", Map.of("source", source,
                "candidate", "{\"fields\":{\"email\":\"john@evil.org\",\"order_id\":\"ORD-1234\"}}"), CHEAP).build());

        assertThat(output(faithful).get("valid").asBoolean()).isTrue();
        assertThat(output(faithful).get("checked").asInt()).isEqualTo(2);
        assertThat(output(invented).get("valid").asBoolean()).isFalse();
        assertThat(output(invented).get("unsupported")).extracting(JsonNode::asText).containsExactly("john@evil.org");
        assertThat(invented.getRawConfidence()).isLessThan(faithful.getRawConfidence());
    }

    @Test
    void validateTreatsTheMissingFieldsOfAnExtractionAsNamesNotClaims() throws Exception {
        var source = "Hello, my order ORD-1234 has not arrived. Jane, jane@example.com";
        var extraction = "{\"fields\":{\"email\":\"jane@example.com\",\"order_id\":\"ORD-1234\",\"amount\":null,"
                + "\"date\":null},\"missing\":[\"amount\",\"date\"]}";
        var response = worker.executeStep(step("validate", Map.of("source", source, "candidate", extraction), CHEAP)
                .build());

        // A correct extraction that found no amount and no date is valid: "amount" and "date" are not in the source,
        // and they need not be, they name what was absent.
        assertThat(output(response).get("valid").asBoolean()).isTrue();
        assertThat(output(response).get("checked").asInt()).isEqualTo(2);
        assertThat(output(response).get("unsupported")).isEmpty();
        assertThat(response.getRawConfidence()).isEqualTo(1.0);
    }

    @Test
    void anIdenticalRetryIsReplayedFromTheCheckpoint() throws Exception {
        var request = step("classify", Map.of("text", "My parcel is stuck in customs."), CHEAP).build();
        var first = worker.executeStep(request);
        var retry = worker.executeStep(request);
        var nextAttempt = worker.executeStep(request.toBuilder().setAttempt(2).build());

        assertThat(first.getFromCheckpoint()).isFalse();
        assertThat(retry.getFromCheckpoint()).isTrue();
        assertThat(retry.getOutput()).isEqualTo(first.getOutput());
        assertThat(retry.getRawConfidence()).isEqualTo(first.getRawConfidence());
        assertThat(retry.getPhasesList()).extracting(WorkflowPhase::getName).containsExactly("preflight", "checkpoint");
        assertThat(nextAttempt.getFromCheckpoint()).isFalse();
    }

    @Test
    void aWorkerTypeFromTheTypesDirectoryRunsWithoutCode() throws Exception {
        var response = worker.executeStep(step("intent",
                Map.of("text", "I'd like to cancel my subscription please."), CHEAP).build());

        assertThat(output(response).get("label").asText()).isEqualTo("cancel");
        assertThat(response.getValidation().getPassed()).isTrue();
    }

    @Test
    void unknownWorkerTypeIsAnInvalidArgumentOnWorkerType() {
        var fields = failsWith(Status.Code.INVALID_ARGUMENT,
                () -> worker.executeStep(step("translate", Map.of("text", "hi"), CHEAP).build()));
        assertThat(fields).containsExactly("worker_type");
    }

    @Test
    void missingAndBlankInputsAreFieldViolations() {
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT,
                () -> worker.executeStep(step("classify", Map.of(), CHEAP).build())))
                .containsExactly("inputs.text");
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT,
                () -> worker.executeStep(step("validate", Map.of("source", "  ", "candidate", "{}"), CHEAP).build())))
                .containsExactly("inputs.source");
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT,
                () -> worker.executeStep(step("validate", Map.of("source", "x", "candidate", "{not json"), CHEAP).build())))
                .containsExactly("inputs.candidate");
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT,
                () -> worker.executeStep(step("classify", Map.of("text", "x", "taxonomy", "colours"), CHEAP).build())))
                .containsExactly("inputs.taxonomy");
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT,
                () -> worker.executeStep(step("summarize", Map.of("text", "x", "max_sentences", "many"), CHEAP).build())))
                .containsExactly("inputs.max_sentences");
    }

    @Test
    void oversizedInputsAreRejected() {
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT,
                () -> worker.executeStep(step("summarize", Map.of("text", "word ".repeat(41_000)), CHEAP).build())))
                .containsExactly("inputs");
    }

    @Test
    void unknownModelIsNotFoundAndAModelWhoseKeyIsNotSetIsUnauthenticated() {
        assertThat(failsWith(Status.Code.NOT_FOUND,
                () -> worker.executeStep(step("classify", Map.of("text", "hello"), "gpt-17").build())))
                .containsExactly("model_id");
        failsWith(Status.Code.UNAUTHENTICATED,
                () -> worker.executeStep(step("classify", Map.of("text", "hello"), "test-vllm").build()));
    }
}
