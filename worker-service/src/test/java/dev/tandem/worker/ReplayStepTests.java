package dev.tandem.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.GateResult;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.tandem.worker.ExecuteStepTests.step;
import static dev.tandem.worker.GrpcAssertions.failsWith;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/** The replay backend over gRPC on the real worker: a fixture dataset, and the GSM8K recordings when present. */
@QuarkusTest
class ReplayStepTests {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String MIXTRAL = "replay-mixtral-8x7b";
    static final String GPT4 = "replay-gpt-4-1106";
    /** The shared GSM8K data beside the repository (or where TANDEM_WORKER_REPLAY_DIR points). */
    static final Path GSM8K = Path.of(System.getenv().getOrDefault("TANDEM_WORKER_REPLAY_DIR",
            "../../shared/data/routellm-gsm8k"), "gsm8k_responses.csv");
    static final String JANET = "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and "
            + "bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily "
            + "for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?";

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    private ExecuteStepResponse solve(String question, String model) {
        return worker.executeStep(step("solve", Map.of("question", question), model).build());
    }

    private static GateResult gate(ExecuteStepResponse response, String name) {
        return response.getValidation().getGatesList().stream().filter(g -> g.getName().equals(name)).findFirst()
                .orElseThrow();
    }

    @Test
    void aRecordedAnswerWithSoundArithmeticPassesEveryGate() throws Exception {
        var response = solve("A baker makes 48 rolls and sells half of them in the morning. How many rolls are left?",
                "replay-fixture");

        var out = JSON.readTree(response.getOutput());
        assertThat(out.get("answer").asDouble()).isEqualTo(24.0);
        assertThat(out.get("reasoning").asText()).contains("<<48/2=24>>");
        assertThat(response.getValidation().getPassed()).isTrue();
        assertThat(gate(response, "arithmetic").getDetail()).contains("all 2 calculations recompute");
        assertThat(response.getConfidenceMethod()).isEqualTo("arithmetic-evidence");
        // (2 calculations + final answer + its agreement with the last one, all holding: 4 + 1) / (4 + 2)
        assertThat(response.getRawConfidence()).isEqualTo(5.0 / 6.0, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(response.hasField(ExecuteStepResponse.getDescriptor().findFieldByName("confidence")))
                .as("the deprecated duplicate of raw_confidence is not sent").isFalse();
        assertThat(response.getUsage().getEstimated()).isTrue();
        assertThat(response.getUsage().getInputTokens()).isGreaterThan(20);
        assertThat(response.getUsage().getOutputTokens()).isBetween(20L, 60L);
        assertThat(response.getOutput()).doesNotContain("LEAKED-LABEL");
    }

    @Test
    void aWrongCalculationFailsTheArithmeticGateNamingIt() {
        var wrong = solve("Tom buys 3 packs of 12 pencils and gives 5 pencils to his sister. How many pencils does "
                + "he keep?", "replay-fixture");
        var sound = solve("A baker makes 48 rolls and sells half of them in the morning. How many rolls are left?",
                "replay-fixture");

        assertThat(wrong.getValidation().getPassed()).isFalse();
        assertThat(gate(wrong, "arithmetic").getPassed()).isFalse();
        assertThat(gate(wrong, "arithmetic").getDetail()).contains("36 - 5 = 30 (computes to 31)");
        assertThat(gate(wrong, "final-answer").getPassed()).isTrue();
        assertThat(wrong.getRawConfidence()).isLessThan(sound.getRawConfidence());
    }

    @Test
    void aFinalAnswerThatIsNotTheLastResultFailsAndAMissingOneFailsTheFinalAnswerGate() {
        var inconsistent = solve("Ana has 7 apples and picks 5 more, then eats one. How many apples does she have?",
                "replay-fixture");
        assertThat(gate(inconsistent, "arithmetic").getPassed()).isFalse();
        assertThat(gate(inconsistent, "arithmetic").getDetail())
                .contains("final answer 13 is not the result of the last calculation");

        var none = solve("A train travels 60 miles per hour for 2.5 hours. How far does it go?", "replay-fixture");
        assertThat(gate(none, "final-answer").getPassed()).isFalse();
        assertThat(gate(none, "schema").getPassed()).isFalse();
        assertThat(none.getRawConfidence()).isLessThan(inconsistent.getRawConfidence());
    }

    @Test
    void aJsonlReplayFileAnswersLikeTheCsvAndFlippingEveryCorrectChangesNoByteOfTheStep() throws Exception {
        var questions = new java.util.ArrayList<String>();
        var costs = new java.util.HashMap<String, Double>();
        for (var line : Files.readAllLines(Path.of("src/test/resources/replay/fixture.jsonl"))) {
            var recorded = JSON.readTree(line);
            questions.add(recorded.get("prompt").asText());
            var cost = recorded.at("/models/model-a/cost_usd");
            if (!cost.isMissingNode()) {
                costs.put(recorded.get("prompt").asText(), cost.asDouble());
            }
        }
        assertThat(questions).hasSize(4);
        assertThat(costs).hasSize(1);
        for (var question : questions) {
            var csv = solve(question, "replay-fixture");
            var jsonl = solve(question, "replay-jsonl");
            var flipped = solve(question, "replay-jsonl-flipped");
            // the recording's cost_usd is reported as the call's cost (the router bills it); the CSV records none
            assertThat(csv.getUsage().hasReportedCostUsd()).isFalse();
            assertThat(jsonl.getUsage().hasReportedCostUsd()).isEqualTo(costs.containsKey(question));
            if (costs.containsKey(question)) {
                assertThat(jsonl.getUsage().getReportedCostUsd()).isEqualTo(costs.get(question));
            }
            var tokensOnly = jsonl.getUsage().toBuilder().clearReportedCostUsd().build();
            assertThat(List.of(jsonl.getOutput(), jsonl.getRawConfidence(), jsonl.getValidation(), tokensOnly))
                    .isEqualTo(List.of(csv.getOutput(), csv.getRawConfidence(), csv.getValidation(), csv.getUsage()));
            // everything the step returns, less the model's own id and file name and the run's timings
            assertThat(comparable(flipped)).isEqualTo(comparable(jsonl));
        }
    }

    /** A step response without the fields that name the model or measure the call. */
    private static String comparable(ExecuteStepResponse response) {
        var phases = response.getPhasesList().stream().map(p -> p.toBuilder().clearDurationMs().build()).toList();
        return response.toBuilder().clearModelId().clearLatencyMs().clearPhases().addAllPhases(phases).build()
                .toString().replace("replay-jsonl-flipped", "replay-jsonl").replace("fixture-flipped", "fixture");
    }

    @Test
    void aQuestionNotInTheDatasetIsAFailedPreconditionNamingModelAndDataset() {
        var failure = catchThrowableOfType(StatusRuntimeException.class,
                () -> solve("How many moons does a cube of cheese have?", "replay-fixture"));
        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(failure.getStatus().getDescription()).contains("replay-fixture").contains("fixture.csv")
                .contains("not in the replay dataset");
    }

    @Test
    void aMissingDatasetMakesTheModelUnavailableNotTheService() {
        var failure = catchThrowableOfType(StatusRuntimeException.class,
                () -> solve("A baker makes 48 rolls and sells half of them in the morning. How many rolls are left?",
                        "replay-missing"));
        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(failure.getStatus().getDescription()).contains("does-not-exist.csv").contains("not readable");

        given().when().get("/api/models").then().statusCode(200)
                .body("find { it.id == 'replay-missing' }.available", equalTo(false))
                .body("find { it.id == 'replay-missing' }.availability", containsString("does-not-exist.csv"))
                .body("find { it.id == 'replay-fixture' }.available", equalTo(true));
        given().when().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'model-backends' }.data.replay-missing", containsString("down"));
    }

    @Test
    void solveNeedsAGenerationModelAndAReplayModelRunsOnlySolve() {
        failsWith(Status.Code.FAILED_PRECONDITION, () -> worker.executeStep(step("solve",
                Map.of("question", "What is 2 + 2?"), ExecuteStepTests.CHEAP).build()));
        var failure = catchThrowableOfType(StatusRuntimeException.class, () -> worker.executeStep(
                step("summarize", Map.of("text", "One sentence. Another one."), "replay-fixture").build()));
        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(failure.getStatus().getDescription()).contains("solve");
    }

    @Test
    void answersRecordedGsm8kQuestionsWithBothModels() throws Exception {
        assumeThat(Files.isReadable(GSM8K)).as("GSM8K replay data absent at %s (set TANDEM_WORKER_REPLAY_DIR)",
                GSM8K.toAbsolutePath()).isTrue();
        for (var model : new String[] {MIXTRAL, GPT4}) {
            var response = solve(JANET, model);
            assertThat(JSON.readTree(response.getOutput()).get("answer").asDouble()).as(model).isEqualTo(18.0);
            assertThat(response.getValidation().getPassed()).as(model).isTrue();
            assertThat(response.getModelId()).isEqualTo(model);
        }
        // matched after normalisation: straight quote instead of the recorded typographic one, re-wrapped
        var retyped = solve(JANET.replace('’', '\'').replace(". ", ".\n  "), GPT4);
        assertThat(JSON.readTree(retyped.getOutput()).get("answer").asDouble()).isEqualTo(18.0);

        var unknown = catchThrowableOfType(StatusRuntimeException.class,
                () -> solve("Janet's ducks lay 17 eggs per day. How many eggs in a week?", MIXTRAL));
        assertThat(unknown.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(unknown.getStatus().getDescription()).contains(MIXTRAL).contains("gsm8k_responses.csv");
    }

    @Test
    void theOracleReviewsASolveStepByItsOwnFinalAnswer() throws Exception {
        assumeThat(Files.isReadable(GSM8K)).as("GSM8K replay data absent at %s", GSM8K.toAbsolutePath()).isTrue();
        var review = ReviewStepRequest.newBuilder().setTaskId("t-review").setStepId("solve").setWorkerType("solve")
                .putInputs("question", JANET).setCandidateModelId(MIXTRAL).setModelId(GPT4);

        var right = worker.reviewStep(review.setCandidateOutput("{\"reasoning\":\"16-3-4=9, 9*2=18\",\"answer\":18}")
                .build());
        var wrong = worker.reviewStep(review.setCandidateOutput("{\"reasoning\":\"16-3=13, 13*2=26\",\"answer\":26}")
                .build());

        assertThat(right.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
        assertThat(wrong.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);
        assertThat(wrong.getReason()).contains("18").contains("26");
        assertThat(JSON.readTree(wrong.getReviewerOutput()).get("answer").asDouble()).isEqualTo(18.0);
        assertThat(wrong.getUsage().getOutputTokens()).isPositive();
    }
}
