package dev.tandem.router;

import static dev.tandem.router.TestSupport.fieldViolations;
import static dev.tandem.router.TestSupport.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.concurrent.TimeUnit;

import com.google.rpc.PreconditionFailure;
import dev.tandem.fakes.FakeWorker;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.Candidate;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.SettleStepRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.GetCatalogRequest;
import dev.tandem.proto.router.v1.ListWorkerTypesRequest;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.RouteRequest;
import dev.tandem.proto.router.v1.RouteResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.router.v1.Tier;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
class RouterGrpcTests {

    @jakarta.inject.Inject
    dev.tandem.router.learning.QualityLearning learning;

    /** The audit streams the routing rules price reviews with, read before each test (not on the poll's timer). */
    @org.junit.jupiter.api.BeforeEach
    void readAuditStreams() {
        learning.poll();
    }

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    @Test
    void dispatchRoutesToTheCheapestQualifyingModelPricesTheUsageAndTracesTheDecision() {
        DispatchResponse response = router.dispatch(step("classify").build());

        assertThat(response.getDecision().getModelId()).isEqualTo("embedded-minilm");
        assertThat(response.getDecision().getPoolId()).isEqualTo("local");
        assertThat(response.getDecision().getPolicy()).isEqualTo("default");
        assertThat(response.getDecision().getExplanation()).startsWith("chose embedded-minilm@local");
        assertThat(response.getResult().getModelId()).isEqualTo("embedded-minilm");
        assertThat(response.getAttemptsList()).singleElement().satisfies(a -> {
            assertThat(a.getOutcome()).isEqualTo(AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED);
            assertThat(a.getTier()).isEqualTo(Tier.TIER_SMALL);
            assertThat(a.getUsage().getInputTokens()).isEqualTo(FakeWorker.INPUT_TOKENS);
            assertThat(a.getConfidence()).isEqualTo(0.9);
        });
        // 100 input + 20 output tokens at 0.02 USD per 1M, against 3.00 / 15.00 on the oracle model
        assertThat(response.getCostUsd()).isCloseTo(120 * 0.02 / 1e6, Offset.offset(1e-12));
        assertThat(response.getOracleBaselineUsd()).isCloseTo((100 * 3.0 + 20 * 15.0) / 1e6, Offset.offset(1e-12));
        Candidate oracle = response.getDecision().getCandidatesList().stream()
                .filter(c -> c.getModelId().equals("embedded-bge-oracle")).findFirst().orElseThrow();
        // the oracle model qualifies too, it is just dearer
        assertThat(oracle.getEligible()).isTrue();
        assertThat(oracle.getRank()).isEqualTo(2);
        assertThat(oracle.getQualitySource()).isEqualTo("prior");
        assertThat(oracle.getCircuit()).isEqualTo("closed");
        assertThat(response.getTraceList()).anySatisfy(line -> assertThat(line).contains("policy default: chose "
                + "embedded-minilm@local"));
        assertThat(response.getTraceList()).anySatisfy(line -> assertThat(line).contains("dispatch on "
                + "embedded-minilm@local answered"));
    }

    @Test
    void callerDeadlinePropagatesToTheWorker() {
        DispatchResponse response = router.withDeadlineAfter(20, TimeUnit.SECONDS)
                .dispatch(step("classify").build());

        String output = response.getResult().getOutput();
        long deadlineMs = Long.parseLong(output.replaceAll(".*\"deadline_ms\":(-?\\d+).*", "$1"));
        assertThat(deadlineMs).isPositive().isLessThanOrEqualTo(20_000);
    }

    @Test
    void reviewGoesToTheOracleTier() {
        ReviewResponse response = router.review(ReviewRequest.newBuilder().setTaskId("task-1").setStepId("s1")
                .setWorkerType("classify").putInputs("text", "The parcel arrived broken.")
                .setCandidateOutput("{\"label\":\"complaint\"}").setCandidateModelId("embedded-minilm").build());

        assertThat(response.getDecision().getModelId()).isEqualTo("embedded-bge-oracle");
        assertThat(response.getReview().getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
        assertThat(response.getReview().getModelId()).isEqualTo("embedded-bge-oracle");
        assertThat(response.getCostUsd()).isCloseTo((100 * 3.0 + 20 * 15.0) / 1e6, Offset.offset(1e-12));
        // the candidate's own model never reviews it
        assertThat(response.getDecision().getCandidatesList())
                .filteredOn(c -> c.getModelId().equals("embedded-minilm"))
                .allSatisfy(c -> assertThat(c.getRejection()).isEqualTo("model excluded by the request"));
        assertThat(response.getDecision().getCandidatesList())
                .filteredOn(c -> c.getModelId().equals("fo-steady"))
                .allSatisfy(c -> assertThat(c.getRejection()).isEqualTo("model does not serve worker type 'classify'"));
    }

    @Test
    void aReviewerMustMeetTheStepsHardRequirements() {
        // a generative step needs a generative reviewer: the embedded oracle (embedding only) may not review it
        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.review(ReviewRequest.newBuilder().setTaskId("task-1").setStepId("s3")
                        .setWorkerType("classify").putInputs("text", "The parcel arrived broken.")
                        .setCandidateOutput("{\"label\":\"complaint\"}").setCandidateModelId("embedded-minilm")
                        .setRequirements(StepRequirements.newBuilder().addCapabilities("generation")
                                .setBudgetUsd(1e-9))
                        .build()));

        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(error.getStatus().getDescription()).contains("lacks capability 'generation'")
                .doesNotContain("budget");
    }

    @Test
    void theOracleModelsOwnOutputIsNotSentBackToItForReview() {
        ReviewResponse response = router.review(ReviewRequest.newBuilder().setTaskId("task-1").setStepId("s2")
                .setWorkerType("classify").putInputs("text", "The parcel arrived broken.")
                .setCandidateOutput("{\"label\":\"complaint\"}").setCandidateModelId("embedded-bge-oracle").build());

        assertThat(response.getReview().getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
        assertThat(response.getReview().getReason()).startsWith("self-review skipped");
        assertThat(response.getCostUsd()).isZero();
        assertThat(response.getAttemptsList()).isEmpty();
    }

    @Test
    void unmetRequirementIsFailedPreconditionNamingIt() {
        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.dispatch(step("classify").setRequirements(StepRequirements.newBuilder()
                        .addCapabilities("logprobs")).build()));

        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(error.getStatus().getDescription()).contains("lacks capability 'logprobs'");
        assertThat(TestSupport.detail(error, PreconditionFailure.class).getViolations(0).getType())
                .isEqualTo("REQUIREMENTS");
    }

    @Test
    void dispatchWithoutIdsIsInvalidArgumentWithFieldViolations() {
        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.dispatch(DispatchRequest.newBuilder()
                        .setRequirements(StepRequirements.newBuilder().setBudgetUsd(-1)).build()));

        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(fieldViolations(error)).containsExactly("task_id", "step_id", "worker_type",
                "requirements.budget_usd");
    }

    @Test
    void settlingAStepTheAuditPassedReleasesItsHoldOnceAndNeedsItsIds() {
        DispatchRequest step = step("classify").build();
        router.dispatch(step);
        SettleStepRequest settle = SettleStepRequest.newBuilder().setTaskId(step.getTaskId())
                .setStepId(step.getStepId()).setWorkerType("classify").build();
        // with an audit service configured the dispatched worker step holds its worst review until settled
        boolean first = router.settleStep(settle).getReleased();
        assertThat(router.settleStep(settle).getReleased()).as("nothing left to release").isFalse();
        assertThat(first).isTrue();

        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.settleStep(SettleStepRequest.getDefaultInstance()));
        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(fieldViolations(error)).containsExactly("task_id", "step_id", "worker_type");
    }

    @Test
    void routeWithoutWorkerTypeIsInvalidArgument() {
        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.route(RouteRequest.getDefaultInstance()));

        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(fieldViolations(error)).containsExactly("worker_type");
    }

    @Test
    void routeIsADryRunWithEveryCandidateExplained() {
        RouteResponse response = router.route(RouteRequest.newBuilder().setWorkerType("classify")
                .setRequirements(StepRequirements.newBuilder().setMinTier(Tier.TIER_ORACLE)).build());

        assertThat(response.getDecision().getModelId()).isEqualTo("embedded-bge-oracle");
        assertThat(response.getDecision().getCandidatesList()).isNotEmpty()
                .allSatisfy(c -> assertThat(c.getEligible() ? c.getRank() > 0 : !c.getRejection().isEmpty())
                        .isTrue());
    }

    @Test
    void catalogListsModelsPoolsAndBackendsWithLiveState() {
        var catalog = router.getCatalog(GetCatalogRequest.getDefaultInstance());

        assertThat(catalog.getModelsList()).extracting(m -> m.getId())
                .contains("embedded-minilm", "embedded-bge-oracle");
        assertThat(catalog.getModelsList()).filteredOn(m -> m.getId().equals("embedded-bge-oracle"))
                .singleElement().satisfies(m -> {
                    assertThat(m.getTier()).isEqualTo(Tier.TIER_ORACLE);
                    assertThat(m.getOutputUsdPerMtok()).isEqualTo(15.0);
                    assertThat(m.getPriorQuality()).isEqualTo(0.95);
                });
        assertThat(catalog.getPoolsList()).filteredOn(p -> p.getId().equals("local")).singleElement()
                .satisfies(p -> {
                    assertThat(p.getCapacity()).isEqualTo(32);
                    assertThat(p.getModelsList()).contains("embedded-minilm");
                });
        assertThat(catalog.getPoolsList()).filteredOn(p -> p.getId().equals("tiny")).singleElement()
                .satisfies(p -> {
                    assertThat(p.getGpus()).isEqualTo(2);
                    assertThat(p.getUsdPerGpuSecond()).isEqualTo(0.001);
                });
        assertThat(catalog.getBackendsList()).anySatisfy(b -> {
            assertThat(b.getModelId()).isEqualTo("embedded-minilm");
            assertThat(b.getPoolId()).isEqualTo("local");
            assertThat(b.getCircuit()).isEqualTo("closed");
        });
    }

    @Test
    void listWorkerTypesAsksAHealthyPool() {
        var response = router.listWorkerTypes(ListWorkerTypesRequest.getDefaultInstance());

        assertThat(response.getWorkerTypesList()).extracting(w -> w.getName()).containsExactly("classify");
    }
}
