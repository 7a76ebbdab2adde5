package dev.tandem.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.google.rpc.BadRequest;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.Candidate;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.GetCatalogRequest;
import dev.tandem.proto.router.v1.ListWorkerTypesRequest;
import dev.tandem.proto.router.v1.PoolEntry;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.RouteRequest;
import dev.tandem.proto.router.v1.RouteResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.router.v1.Tier;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
class RouterGrpcTests {

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    @ConfigProperty(name = "tandem.router.pools.tiny.endpoint")
    String tinyEndpoint;

    private static DispatchRequest.Builder step(String workerType) {
        return DispatchRequest.newBuilder().setTaskId("task-1").setStepId("step-" + workerType)
                .setWorkerType(workerType).putInputs("text", "The parcel arrived broken and late.");
    }

    @Test
    void dispatchRoutesToTheCheapestQualifyingModelAndPricesTheUsage() {
        DispatchResponse response = router.dispatch(step("classify").build());

        assertThat(response.getDecision().getModelId()).isEqualTo("embedded-minilm");
        assertThat(response.getDecision().getPoolId()).isEqualTo("local");
        assertThat(response.getDecision().getExplanation()).startsWith("chose embedded-minilm@local");
        assertThat(response.getResult().getModelId()).isEqualTo("embedded-minilm");
        assertThat(response.getAttemptsList()).singleElement()
                .satisfies(a -> assertThat(a.getOutcome()).isEqualTo(AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED));
        // 100 input + 20 output tokens at 0.02 USD per 1M, against 3.00 / 15.00 on the oracle model
        assertThat(response.getCostUsd()).isCloseTo(120 * 0.02 / 1e6, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(response.getOracleBaselineUsd()).isCloseTo((100 * 3.0 + 20 * 15.0) / 1e6,
                org.assertj.core.data.Offset.offset(1e-12));
        Candidate oracle = response.getDecision().getCandidatesList().stream()
                .filter(c -> c.getModelId().equals("embedded-bge-oracle")).findFirst().orElseThrow();
        // the oracle model qualifies too, it is just dearer
        assertThat(oracle.getEligible()).isTrue();
        assertThat(oracle.getRank()).isEqualTo(2);
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
    void failsOverFromAnUnavailablePoolAndRecordsBothAttempts() {
        DispatchResponse response = router.dispatch(step("failover-test").build());

        assertThat(response.getAttemptsList()).hasSize(2);
        assertThat(response.getAttempts(0).getPoolId()).isEqualTo("flaky");
        assertThat(response.getAttempts(0).getOutcome()).isEqualTo(AttemptOutcome.ATTEMPT_OUTCOME_BACKEND_FAILED);
        assertThat(response.getAttempts(0).getError()).contains("UNAVAILABLE");
        assertThat(response.getAttempts(1).getPoolId()).isEqualTo("local");
        assertThat(response.getAttempts(1).getModelId()).isEqualTo("fo-steady");
        assertThat(response.getAttempts(1).getOutcome()).isEqualTo(AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED);
        assertThat(response.getResult().getOutput()).contains("\"attempt\":2");
        assertThat(response.getCostUsd()).isEqualTo(response.getAttempts(1).getCostUsd());
    }

    @Test
    void invalidArgumentFromTheWorkerIsReturnedWithoutFailover() {
        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.dispatch(step("invalid-test").build()));

        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(error.getStatus().getDescription()).contains("input 'text' is required");
        // the steady fallback was never called: its backend has no calls recorded
        io.restassured.RestAssured.given().when().get("/api/backends").then().statusCode(200)
                .body("find { it.backend == 'inv-steady@local' }.successes", org.hamcrest.Matchers.is(0))
                .body("find { it.backend == 'inv-cheap@picky' }.successes", org.hamcrest.Matchers.is(1));
    }

    @Test
    void circuitOpensAfterRepeatedFailuresAndTheCandidateShowsRejected() {
        for (int i = 0; i < 4; i++) {
            DispatchResponse response = router.dispatch(step("circuit-test").setStepId("s" + i).build());
            assertThat(response.getResult().getModelId()).isEqualTo("cb-steady");
        }

        PoolEntry broken = router.getCatalog(GetCatalogRequest.getDefaultInstance()).getPoolsList().stream()
                .filter(p -> p.getId().equals("broken")).findFirst().orElseThrow();
        assertThat(broken.getCircuit()).isEqualTo("open");

        RouteResponse route = router.route(RouteRequest.newBuilder().setWorkerType("circuit-test").build());
        assertThat(route.getDecision().getModelId()).isEqualTo("cb-steady");
        Candidate rejected = route.getDecision().getCandidatesList().stream()
                .filter(c -> c.getPoolId().equals("broken")).findFirst().orElseThrow();
        assertThat(rejected.getEligible()).isFalse();
        assertThat(rejected.getRejection()).isEqualTo("circuit open for pool 'broken'");

        DispatchResponse afterOpen = router.dispatch(step("circuit-test").setStepId("s-open").build());
        assertThat(afterOpen.getAttemptsList()).singleElement()
                .satisfies(a -> assertThat(a.getModelId()).isEqualTo("cb-steady"));
    }

    @Test
    void everyQualifyingPoolFullIsResourceExhausted() throws Exception {
        CompletableFuture<DispatchResponse> holding = CompletableFuture.supplyAsync(
                () -> router.withDeadlineAfter(60, TimeUnit.SECONDS).dispatch(step("full-test").build()));
        try {
            awaitInFlight("tiny", 1);

            StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                    () -> router.dispatch(step("full-test").setStepId("second").build()));
            assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(error.getStatus().getDescription()).contains("pool 'tiny' full");
        } finally {
            release();
        }
        assertThat(holding.get(60, TimeUnit.SECONDS).getResult().getModelId()).isEqualTo("full-model");
    }

    @Test
    void reviewGoesToTheOracleTier() {
        ReviewResponse response = router.review(ReviewRequest.newBuilder().setTaskId("task-1").setStepId("s1")
                .setWorkerType("classify").putInputs("text", "The parcel arrived broken.")
                .setCandidateOutput("{\"label\":\"complaint\"}").setCandidateModelId("embedded-minilm").build());

        assertThat(response.getDecision().getModelId()).isEqualTo("embedded-bge-oracle");
        assertThat(response.getReview().getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
        assertThat(response.getReview().getModelId()).isEqualTo("embedded-bge-oracle");
        assertThat(response.getCostUsd()).isCloseTo((100 * 3.0 + 20 * 15.0) / 1e6,
                org.assertj.core.data.Offset.offset(1e-12));
        assertThat(response.getDecision().getCandidatesList())
                .filteredOn(c -> c.getModelId().equals("embedded-minilm"))
                .allSatisfy(c -> assertThat(c.getRejection()).isEqualTo("tier SMALL below required ORACLE"));
    }

    @Test
    void unmetRequirementIsFailedPreconditionNamingIt() {
        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.dispatch(step("classify").setRequirements(StepRequirements.newBuilder()
                        .addCapabilities("logprobs")).build()));

        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(error.getStatus().getDescription()).contains("lacks capability 'logprobs'");
    }

    @Test
    void dispatchWithoutIdsIsInvalidArgumentWithFieldViolations() {
        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.dispatch(DispatchRequest.newBuilder().build()));

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
    void catalogListsModelsAndPoolsWithLiveState() {
        var catalog = router.getCatalog(GetCatalogRequest.getDefaultInstance());

        assertThat(catalog.getModelsList()).extracting(m -> m.getId())
                .contains("embedded-minilm", "embedded-bge-oracle");
        assertThat(catalog.getModelsList()).filteredOn(m -> m.getId().equals("embedded-bge-oracle"))
                .singleElement().satisfies(m -> {
                    assertThat(m.getTier()).isEqualTo(Tier.TIER_ORACLE);
                    assertThat(m.getOutputUsdPerMtok()).isEqualTo(15.0);
                });
        assertThat(catalog.getPoolsList()).filteredOn(p -> p.getId().equals("local")).singleElement()
                .satisfies(p -> {
                    assertThat(p.getCapacity()).isEqualTo(32);
                    assertThat(p.getModelsList()).contains("embedded-minilm");
                });
    }

    @Test
    void listWorkerTypesAsksAHealthyPool() {
        var response = router.listWorkerTypes(ListWorkerTypesRequest.getDefaultInstance());

        assertThat(response.getWorkerTypesList()).extracting(w -> w.getName()).containsExactly("classify");
    }

    private void awaitInFlight(String poolId, int expected) throws InterruptedException {
        // Waits for the first dispatch to reach the fake; bounded so a broken router fails instead of hanging.
        for (int i = 0; i < 600; i++) {
            int inFlight = router.getCatalog(GetCatalogRequest.getDefaultInstance()).getPoolsList().stream()
                    .filter(p -> p.getId().equals(poolId)).findFirst().orElseThrow().getInFlight();
            if (inFlight >= expected) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("pool " + poolId + " never reached " + expected + " in flight");
    }

    private void release() {
        ManagedChannel channel = ManagedChannelBuilder.forTarget(tinyEndpoint).usePlaintext().build();
        try {
            WorkerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .executeStep(ExecuteStepRequest.newBuilder().setWorkerType("release").build());
        } finally {
            channel.shutdownNow();
        }
    }

    private static java.util.List<String> fieldViolations(StatusRuntimeException error) {
        com.google.rpc.Status status = StatusProto.fromThrowable(error);
        assertThat(status).isNotNull();
        return status.getDetailsList().stream().filter(d -> d.is(BadRequest.class)).map(d -> {
            try {
                return d.unpack(BadRequest.class);
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }).flatMap(b -> b.getFieldViolationsList().stream()).map(BadRequest.FieldViolation::getField).toList();
    }
}
