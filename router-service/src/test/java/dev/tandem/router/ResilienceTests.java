package dev.tandem.router;

import static dev.tandem.router.TestSupport.step;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.google.rpc.RetryInfo;
import dev.tandem.fakes.FakeWorker;
import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.Candidate;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.GetCatalogRequest;
import dev.tandem.proto.router.v1.PoolEntry;
import dev.tandem.proto.router.v1.RouteRequest;
import dev.tandem.proto.router.v1.RouteResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.router.client.WorkerPools;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.assertj.core.data.Offset;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hamcrest.Matchers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Failover for each failure class, retries, rate limits, the circuit breaker opening, hedging, load shedding. */
@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
class ResilienceTests {

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    @ConfigProperty(name = "tandem.router.pools.tiny.endpoint")
    String tinyEndpoint;

    @Inject
    WorkerPools pools;

    @Test
    void unavailableIsRetriedOnceWithJitterThenFailsOverAndEveryCallIsRecorded() {
        DispatchResponse response = router.dispatch(step("failover-test").build());

        assertThat(response.getAttemptsList()).extracting(Attempt::getPoolId, Attempt::getOutcome, Attempt::getRetry)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("flaky", AttemptOutcome.ATTEMPT_OUTCOME_BACKEND_FAILED,
                                false),
                        org.assertj.core.groups.Tuple.tuple("flaky", AttemptOutcome.ATTEMPT_OUTCOME_BACKEND_FAILED,
                                true),
                        org.assertj.core.groups.Tuple.tuple("local", AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED, false));
        assertThat(response.getAttempts(0).getStatusCode()).isEqualTo("UNAVAILABLE");
        assertThat(response.getAttempts(2).getModelId()).isEqualTo("fo-steady");
        // the second backend is the dispatch's attempt 2 (retries reuse the attempt number: idempotent checkpoints)
        assertThat(response.getResult().getOutput()).contains("\"attempt\":2");
        assertThat(response.getCostUsd()).isEqualTo(response.getAttempts(2).getCostUsd());
        assertThat(response.getTraceList()).anySatisfy(l -> assertThat(l).contains("retrying fo-cheap@flaky"));
    }

    @Test
    void aTransientErrorRetriedOnTheSameBackendNeedsNoFailover() {
        DispatchResponse response = router.dispatch(step("retry-test").build());

        assertThat(response.getResult().getModelId()).isEqualTo("rt-flaky-once");
        assertThat(response.getAttemptsList()).extracting(Attempt::getOutcome).containsExactly(
                AttemptOutcome.ATTEMPT_OUTCOME_BACKEND_FAILED, AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED);
        assertThat(response.getAttempts(1).getRetry()).isTrue();
    }

    @Test
    void deadlineExceededFromTheWorkerFailsOverWithoutRetry() {
        DispatchResponse response = router.dispatch(step("deadline-test").build());

        assertThat(response.getResult().getModelId()).isEqualTo("dl-steady");
        assertThat(response.getAttemptsList()).extracting(Attempt::getModelId, Attempt::getStatusCode)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("dl-cheap-deadline", "DEADLINE_EXCEEDED"),
                        org.assertj.core.groups.Tuple.tuple("dl-steady", ""));
    }

    @Test
    void aRateLimitFailsOverAndKeepsTheBackendOutForItsRetryDelay() {
        // the router's clock stands still unless moved: the 400 ms delay cannot pass unobserved on a busy machine
        var now = new AtomicLong(System.nanoTime());
        pools.useClock(now::get);
        try {
            DispatchResponse response = router.dispatch(step("ratelimit-test").build());

            assertThat(response.getResult().getModelId()).isEqualTo("rl-steady");
            assertThat(response.getAttempts(0).getOutcome()).isEqualTo(AttemptOutcome.ATTEMPT_OUTCOME_RATE_LIMITED);
            assertThat(response.getAttempts(0).getError()).contains("kept out of selection for 400 ms");

            Candidate limited = candidate(router.route(RouteRequest.newBuilder().setWorkerType("ratelimit-test")
                    .build()), "rl-cheap-ratelimited");
            assertThat(limited.getEligible()).isFalse();
            assertThat(limited.getRejection()).startsWith("rate limited by the backend for another");
            assertThat(limited.getRetryAfterMs()).isEqualTo(400);

            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(399));
            assertThat(router.route(RouteRequest.newBuilder().setWorkerType("ratelimit-test").build())
                    .getDecision().getModelId()).as("still inside its retry delay").isEqualTo("rl-steady");
            assertThat(router.dispatch(step("ratelimit-test").build()).getAttemptsList())
                    .as("no call to a rate-limited backend").extracting(Attempt::getModelId)
                    .containsExactly("rl-steady");

            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(2));
            RouteResponse after = router.route(RouteRequest.newBuilder().setWorkerType("ratelimit-test").build());
            assertThat(after.getDecision().getModelId()).isEqualTo("rl-cheap-ratelimited");
        } finally {
            pools.useClock(System::nanoTime);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"invalid_argument", "failed_precondition", "not_found", "unauthenticated",
            "permission_denied"})
    void callerErrorsFromTheWorkerAreReturnedWithoutRetryOrFailover(String code) {
        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.dispatch(step("reject-" + code).build()));

        assertThat(error.getStatus().getCode().name()).isEqualToIgnoringCase(code);
        assertThat(error.getStatus().getDescription()).isEqualTo("scripted " + code.toUpperCase());
        // called once, never retried; the dearer backend never called
        given().when().get("/api/backends").then().statusCode(200)
                .body("find { it.backend == 'rj-" + code + "-status-" + code + "@local' }.successes",
                        Matchers.is(1))
                .body("find { it.backend == 'rj-" + code + "-status-" + code + "@local' }.failures", Matchers.is(0))
                .body("find { it.backend == 'rj-" + code + "-steady@local' }.successes", Matchers.is(0));
    }

    @Test
    void invalidArgumentFromAWholePoolIsReturnedWithoutFailover() {
        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.dispatch(step("invalid-test").build()));

        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(error.getStatus().getDescription()).contains("input 'text' is required");
        given().when().get("/api/backends").then().statusCode(200)
                .body("find { it.backend == 'inv-steady@local' }.successes", Matchers.is(0))
                .body("find { it.backend == 'inv-cheap@picky' }.successes", Matchers.is(1));
    }

    @Test
    void circuitOpensAfterRepeatedFailuresAndTheCandidateShowsRejected() {
        for (int i = 0; i < 4; i++) {
            DispatchResponse response = router.dispatch(step("circuit-test").build());
            assertThat(response.getResult().getModelId()).isEqualTo("cb-steady");
        }

        PoolEntry broken = router.getCatalog(GetCatalogRequest.getDefaultInstance()).getPoolsList().stream()
                .filter(p -> p.getId().equals("broken")).findFirst().orElseThrow();
        assertThat(broken.getCircuit()).isEqualTo("open");

        RouteResponse route = router.route(RouteRequest.newBuilder().setWorkerType("circuit-test").build());
        assertThat(route.getDecision().getModelId()).isEqualTo("cb-steady");
        Candidate rejected = candidate(route, "cb-cheap");
        assertThat(rejected.getEligible()).isFalse();
        assertThat(rejected.getCircuit()).isEqualTo("open");
        assertThat(rejected.getRejection()).isEqualTo("circuit open for backend cb-cheap@broken");

        DispatchResponse afterOpen = router.dispatch(step("circuit-test").build());
        assertThat(afterOpen.getAttemptsList()).singleElement()
                .satisfies(a -> assertThat(a.getModelId()).isEqualTo("cb-steady"));
        given().when().get("/q/metrics").then().statusCode(200)
                .body(Matchers.containsString("tandem_router_backend_circuit_open{model=\"cb-cheap\",pool=\"broken\"} 1.0"))
                .body(Matchers.containsString("tandem_router_pool_circuit_open{pool=\"broken\"} 1.0"));
    }

    @Test
    void aSlowLatencyCriticalCallIsHedgedAndTheFirstAnswerWins() {
        DispatchResponse response = router.dispatch(step("hedge-test")
                .setRequirements(StepRequirements.newBuilder().setLatencyTargetMs(5000)).build());

        assertThat(response.getResult().getModelId()).isEqualTo("hg-backup");
        assertThat(response.getAttemptsList()).anySatisfy(a -> {
            assertThat(a.getModelId()).isEqualTo("hg-backup");
            assertThat(a.getOutcome()).isEqualTo(AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED);
            assertThat(a.getHedged()).isTrue();
        });
        assertThat(response.getAttemptsList()).anySatisfy(a -> {
            assertThat(a.getModelId()).isEqualTo("hg-primary-slow");
            assertThat(a.getOutcome()).isEqualTo(AttemptOutcome.ATTEMPT_OUTCOME_HEDGE_CANCELLED);
        });
        assertThat(response.getTraceList()).anySatisfy(l -> assertThat(l)
                .contains("hedging: hg-primary-slow@local slower than 100 ms, also calling hg-backup@local"));
    }

    @Test
    void aCallerThatGoesAwayCancelsBothTheHedgedCallAndItsPrimary() {
        Context.CancellableContext caller = Context.current().withCancellation();
        var answer = new CompletableFuture<DispatchResponse>();
        Thread.ofVirtual().start(caller.wrap(() -> {
            try {
                answer.complete(router.withDeadlineAfter(60, TimeUnit.SECONDS).dispatch(step("hedge-cancel-test")
                        .setRequirements(StepRequirements.newBuilder().setLatencyTargetMs(5000)).build()));
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        }));
        await().atMost(Duration.ofSeconds(20)).until(() -> FakeWorker.hangingCalls("hc-backup-hang") == 1);
        assertThat(FakeWorker.hangingCalls("hc-primary-hang")).isEqualTo(1);

        caller.cancel(null);

        // both worker calls are cancelled with the dispatch, not left running to their 30 s end
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(FakeWorker.cancelledHangingCalls("hc-primary-hang")).isEqualTo(1);
            assertThat(FakeWorker.cancelledHangingCalls("hc-backup-hang")).isEqualTo(1);
        });
        assertThat(catchThrowableOfType(ExecutionException.class, answer::get).getCause())
                .isInstanceOf(StatusRuntimeException.class);
    }

    @Test
    void everyQualifyingPoolFullIsShedWithResourceExhaustedAndARetryDelay() throws Exception {
        CompletableFuture<DispatchResponse> holding = CompletableFuture.supplyAsync(
                () -> router.withDeadlineAfter(60, TimeUnit.SECONDS).dispatch(step("full-test").build()));
        try {
            awaitInFlight("tiny", 1);

            StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                    () -> router.dispatch(step("full-test").build()));
            assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(error.getStatus().getDescription()).contains("pool 'tiny' full");
            assertThat(TestSupport.detail(error, RetryInfo.class).getRetryDelay().getSeconds()).isEqualTo(1);
        } finally {
            TestSupport.control(tinyEndpoint, "release", "x", "y");
        }
        DispatchResponse held = holding.get(60, TimeUnit.SECONDS);
        assertThat(held.getResult().getModelId()).isEqualTo("full-model");
        // tokens at 0.001 per 1M plus GPU time: 0.001 USD per GPU-second x 2 GPUs x 0.4 s of model time
        assertThat(held.getCostUsd()).isCloseTo(120 * 0.001 / 1e6 + 0.0008, Offset.offset(1e-12));
        assertThat(held.getAttempts(0).getGpuCostUsd()).isCloseTo(0.0008, Offset.offset(1e-12));
        given().when().get("/q/metrics").then().statusCode(200)
                .body(Matchers.containsString("tandem_router_load_shed_total{reason=\"pools_full\","
                        + "worker_type=\"full-test\"}"));
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

    private static Candidate candidate(RouteResponse route, String model) {
        return route.getDecision().getCandidatesList().stream().filter(c -> c.getModelId().equals(model))
                .findFirst().orElseThrow();
    }
}
