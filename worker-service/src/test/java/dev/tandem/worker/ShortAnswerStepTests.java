package dev.tandem.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.GateResult;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import com.google.rpc.BadRequest;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static dev.tandem.worker.ExecuteStepTests.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The "answer" worker type (short answers and multiple choice) on replayed recordings, over gRPC. */
@QuarkusTest
class ShortAnswerStepTests {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String PHOTOSYNTHESIS = "Which gas do plants mainly take in for photosynthesis?";
    static final String PHOTOSYNTHESIS_CHOICES = "A) oxygen\nB) carbon dioxide\nC) nitrogen\nD) helium";
    static final String MAMMAL = "Which of these is a mammal?";
    static final String MAMMAL_CHOICES = "[\"shark\", \"trout\", \"whale\", \"frog\"]";

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    private ExecuteStepResponse answer(String question, String choices, String model) {
        var inputs = new HashMap<String, String>();
        inputs.put("question", question);
        if (choices != null) {
            inputs.put("choices", choices);
        }
        return worker.executeStep(step("answer", inputs, model).build());
    }

    private static GateResult gate(ExecuteStepResponse response, String name) {
        return response.getValidation().getGatesList().stream().filter(g -> g.getName().equals(name)).findFirst()
                .orElseThrow();
    }

    @Test
    void aMarkedShortAnswerIsReadOutOfTheRecordingAndScoredByItsEvidence() throws Exception {
        var marked = answer("Which planet is known as the Red Planet?", null, "replay-quiz-small");
        var unmarked = answer("How many legs does a spider have?", null, "replay-quiz-small");

        assertThat(JSON.readTree(marked.getOutput()).get("answer").asText()).isEqualTo("Mars");
        assertThat(marked.getValidation().getPassed()).isTrue();
        assertThat(gate(marked, "choice").getDetail()).contains("no options");
        assertThat(marked.getConfidenceMethod()).isEqualTo("answer-evidence");
        // answer found and marked: (2 + 1) / (2 + 2)
        assertThat(marked.getRawConfidence()).isEqualTo(0.75);
        // the last line, not marked: (1 + 1) / (2 + 2)
        assertThat(JSON.readTree(unmarked.getOutput()).get("answer").asText()).isEqualTo("8");
        assertThat(unmarked.getRawConfidence()).isEqualTo(0.5);
        assertThat(marked.getUsage().getReportedCostUsd()).isEqualTo(0.0001);
    }

    @Test
    void aMultipleChoiceAnswerMustNameOneOfTheOptions() throws Exception {
        var named = answer(PHOTOSYNTHESIS, PHOTOSYNTHESIS_CHOICES, "replay-quiz-small");
        var none = answer(MAMMAL, MAMMAL_CHOICES, "replay-quiz-small");

        assertThat(JSON.readTree(named.getOutput()).get("answer").asText()).isEqualTo("(A)");
        assertThat(gate(named, "choice").getPassed()).isTrue();
        assertThat(gate(named, "choice").getDetail()).isEqualTo("option A of 4");
        // (E) is not among the four options: the gate fails, so the router climbs or the audit sees a failed step
        assertThat(gate(none, "choice").getPassed()).isFalse();
        assertThat(gate(none, "choice").getDetail()).contains("names none of the options [A, B, C, D]");
        assertThat(none.getValidation().getPassed()).isFalse();
        assertThat(none.getRawConfidence()).isLessThan(named.getRawConfidence());
    }

    @Test
    void optionsThatCannotBeReadAreAnInvalidArgumentNamingTheInput() {
        var e = catchThrowableOfType(StatusRuntimeException.class,
                () -> answer(PHOTOSYNTHESIS, "oxygen or carbon dioxide", "replay-quiz-small"));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        var status = StatusProto.fromThrowable(e);
        assertThat(status).isNotNull();
        assertThat(status.getDetailsList()).anySatisfy(any -> {
            try {
                var violation = any.unpack(BadRequest.class).getFieldViolations(0);
                assertThat(violation.getField()).isEqualTo("inputs.choices");
                assertThat(violation.getDescription()).contains("'oxygen or carbon dioxide'").contains("A) text");
            } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
                throw new AssertionError(ex);
            }
        });
    }

    @Test
    void theReviewerJudgesByTheOptionOrTheNormalisedAnswer() throws Exception {
        var review = ReviewStepRequest.newBuilder().setTaskId("t-quiz").setStepId("answer").setWorkerType("answer")
                .setCandidateModelId("replay-quiz-small").setModelId("replay-quiz-large");

        var wrongOption = worker.reviewStep(review.clearInputs().putAllInputs(Map.of("question", PHOTOSYNTHESIS,
                "choices", PHOTOSYNTHESIS_CHOICES)).setCandidateOutput(answer(PHOTOSYNTHESIS, PHOTOSYNTHESIS_CHOICES,
                "replay-quiz-small").getOutput()).build());
        // the option's text names the same option as the reviewer's letter
        var sameOptionByText = worker.reviewStep(review.clearInputs().putAllInputs(Map.of("question", PHOTOSYNTHESIS,
                "choices", PHOTOSYNTHESIS_CHOICES)).setCandidateOutput(
                "{\"reasoning\":\"\",\"answer\":\"Carbon dioxide\"}").build());
        // "Mars" against the reviewer's "Mars.": the same answer after normalisation
        var sameText = worker.reviewStep(review.clearInputs().putAllInputs(Map.of("question",
                "Which planet is known as the Red Planet?")).setCandidateOutput(answer(
                "Which planet is known as the Red Planet?", null, "replay-quiz-small").getOutput()).build());

        assertThat(wrongOption.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);
        assertThat(wrongOption.getReason()).contains("'(B)'").contains("'(A)'");
        assertThat(sameOptionByText.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
        assertThat(sameText.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
        assertThat(sameText.getUsage().getReportedCostUsd()).isEqualTo(0.003);
    }
}
