package dev.tandem.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.proto.worker.v1.ListWorkerTypesRequest;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import dev.tandem.proto.worker.v1.WorkerTypeInfo;
import io.grpc.Status;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.tandem.worker.ExecuteStepTests.CHEAP;
import static dev.tandem.worker.ExecuteStepTests.ORACLE;
import static dev.tandem.worker.GrpcAssertions.failsWith;
import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
class ReviewStepTests {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TICKET = "The tracking number you sent does not work and my parcel is a week late.";

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    private static ReviewStepRequest.Builder review(String workerType, Map<String, String> inputs, String candidate) {
        return ReviewStepRequest.newBuilder().setTaskId("task-review").setStepId("s1").setWorkerType(workerType)
                .putAllInputs(inputs).setCandidateOutput(candidate).setCandidateModelId(CHEAP).setModelId(ORACLE);
    }

    @Test
    void rejectsAWrongClassificationAndAnswersWithItsOwn() throws Exception {
        var response = worker.reviewStep(review("classify", Map.of("text", TICKET),
                "{\"label\":\"billing\",\"probabilities\":{\"billing\":0.6,\"shipping\":0.4}}").build());

        assertThat(response.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);
        assertThat(response.getReason()).contains("shipping").contains("billing");
        assertThat(JSON.readTree(response.getReviewerOutput()).get("label").asText()).isEqualTo("shipping");
        assertThat(response.getModelId()).isEqualTo(ORACLE);
        assertThat(response.getConfidence()).isBetween(0.0, 1.0);
        assertThat(response.getUsage().getInputTokens()).isPositive();
        assertThat(response.getUsage().getOutputTokens()).isPositive();
        assertThat(response.getLatencyMs()).isPositive();
    }

    @Test
    void acceptsARightClassification() {
        var response = worker.reviewStep(review("classify", Map.of("text", TICKET),
                "{\"label\":\"shipping\",\"probabilities\":{\"shipping\":0.9,\"billing\":0.1}}").build());

        assertThat(response.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
    }

    @Test
    void rejectsAnExtractionThatMissesAFieldOrChangesAValue() {
        var inputs = Map.of("text", "Order ORD-9912 from bob@example.com.", "fields", "email,order_id");
        var missing = worker.reviewStep(review("extract", inputs,
                "{\"fields\":{\"email\":null,\"order_id\":\"ORD-9912\"},\"missing\":[\"email\"]}").build());
        var changed = worker.reviewStep(review("extract", inputs,
                "{\"fields\":{\"email\":\"bob@example.com\",\"order_id\":\"ORD-9913\"},\"missing\":[]}").build());
        var right = worker.reviewStep(review("extract", inputs,
                "{\"fields\":{\"email\":\"bob@example.com\",\"order_id\":\"ORD-9912\"},\"missing\":[]}").build());

        assertThat(missing.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);
        assertThat(missing.getReason()).contains("email");
        assertThat(changed.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);
        assertThat(right.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
    }

    @Test
    void rejectsASummaryWithSentencesNotInTheSource() {
        var text = "The museum reopens in May after renovation. Entry will be free on Sundays. "
                + "A new wing shows modern art.";
        var response = worker.reviewStep(review("summarize", Map.of("text", text),
                "{\"summary\":\"The museum closes forever.\",\"sentences\":[\"The museum closes forever.\"]}").build());

        assertThat(response.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);
    }

    @Test
    void aReviewThatComparesAnswersCostsTheReviewersOwnStepAndASummaryReviewAlsoPaysForReadingTheCandidate() {
        // the audit's price of trust: a classification review is the oracle's redo and a string comparison, so it
        // must not be billed above what the oracle alone would have cost for the step
        var ticket = Map.of("text", TICKET);
        var redo = worker.executeStep(ExecuteStepTests.step("classify", ticket, ORACLE).build()).getUsage();
        var classified = worker.reviewStep(review("classify", ticket,
                "{\"label\":\"shipping\",\"probabilities\":{\"shipping\":0.9,\"billing\":0.1}}").build()).getUsage();
        assertThat(classified.getInputTokens()).isEqualTo(redo.getInputTokens());
        assertThat(classified.getOutputTokens()).isEqualTo(redo.getOutputTokens());

        var document = Map.of("text", "The museum reopens in May after renovation. Entry will be free on Sundays. "
                + "A new wing shows modern art.");
        var summary = worker.executeStep(ExecuteStepTests.step("summarize", document, ORACLE).build()).getUsage();
        var summaryReview = worker.reviewStep(review("summarize", document,
                "{\"summary\":\"The museum reopens in May after renovation.\",\"sentences\":"
                        + "[\"The museum reopens in May after renovation.\"]}").build()).getUsage();
        assertThat(summaryReview.getInputTokens()).isGreaterThan(summary.getInputTokens());
    }

    @Test
    void garbageCandidateIsRejectedAndBlankCandidateIsBadInput() {
        var garbage = worker.reviewStep(review("classify", Map.of("text", TICKET), "not json").build());
        assertThat(garbage.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);

        assertThat(failsWith(Status.Code.INVALID_ARGUMENT,
                () -> worker.reviewStep(review("classify", Map.of("text", TICKET), "").build())))
                .containsExactly("candidate_output");
        assertThat(failsWith(Status.Code.NOT_FOUND,
                () -> worker.reviewStep(review("classify", Map.of("text", TICKET), "{}").setModelId("nope").build())))
                .containsExactly("model_id");
    }

    @Test
    void listsTheLoadedWorkerTypesWithTheirSchemas() {
        var types = worker.listWorkerTypes(ListWorkerTypesRequest.getDefaultInstance()).getWorkerTypesList();

        assertThat(types).extracting(WorkerTypeInfo::getName)
                .contains("classify", "extract", "summarize", "validate", "intent");
        var extract = types.stream().filter(t -> t.getName().equals("extract")).findFirst().orElseThrow();
        assertThat(extract.getRequiredInputsList()).containsExactly("text");
        assertThat(extract.getGatesList()).contains("schema", "values-occur-in-text");
        assertThat(extract.getOutputSchema()).contains("\"missing\"");
    }
}
