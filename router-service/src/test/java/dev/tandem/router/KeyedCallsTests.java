package dev.tandem.router;

import static dev.tandem.router.TestSupport.fieldViolations;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.tandem.proto.router.v1.CancelCallsRequest;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.router.dispatch.IdempotentCalls;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * Keyed Dispatch and Review ({@code idempotency_key}): a repeat joins the call in flight or gets its recorded answer
 * and the worker is called once; a keyed call goes on when its caller goes away; CancelCalls stops it; a call
 * without a key runs every time. The fake worker numbers its calls per task, step and model ({@code "call":N} in
 * the output), so every assertion on how often the model ran reads the worker's own count.
 */
@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
class KeyedCallsTests {

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    @GrpcClient("router")
    io.grpc.Channel channel;

    @Inject
    IdempotentCalls keyedCalls;

    /** The pool of two replicas resolves through this (registered here, in the application's class loader). */
    @org.junit.jupiter.api.BeforeAll
    static void resolveAddressLists() {
        io.grpc.NameResolverRegistry.getDefaultRegistry().register(new AddressListResolverProvider());
    }

    private RouterServiceGrpc.RouterServiceFutureStub async() {
        return RouterServiceGrpc.newFutureStub(channel);
    }

    private static DispatchRequest.Builder step(String workerType, String task) {
        return DispatchRequest.newBuilder().setTaskId(task).setStepId("a").setWorkerType(workerType)
                .putInputs("text", "What is 6 times 7?").setTenant("acme-keyed");
    }

    @Test
    void aRepeatedKeyJoinsTheCallInFlightThenGetsTheRecordedAnswerAndTheWorkerRunsOnce() throws Exception {
        var request = step("keyed-test", "task-join").setIdempotencyKey("task-join/a/execute").build();
        // the slow model answers after 1.5 s: the second call arrives while the first is in flight
        var first = async().withDeadlineAfter(20, TimeUnit.SECONDS).dispatch(request);
        Thread.sleep(300);
        var second = async().withDeadlineAfter(20, TimeUnit.SECONDS).dispatch(request);
        DispatchResponse a = first.get(20, TimeUnit.SECONDS);
        DispatchResponse b = second.get(20, TimeUnit.SECONDS);
        DispatchResponse later = router.dispatch(request.toBuilder()
                .setRequirements(StepRequirements.newBuilder().setBudgetUsd(5)).build()); // another budget left

        assertThat(a.getResult().getOutput()).contains("\"call\":1");
        assertThat(a.getDeduplicated()).isFalse();
        assertThat(b.getResult().getOutput()).isEqualTo(a.getResult().getOutput());
        assertThat(b.getDeduplicated()).isTrue();
        assertThat(b.getCostUsd()).isEqualTo(a.getCostUsd()); // what the one execution cost
        assertThat(later.getResult().getOutput()).isEqualTo(a.getResult().getOutput());
        assertThat(later.getDeduplicated()).isTrue();

        // the worker saw one call for the step: the next one, without a key, is its second
        DispatchResponse unkeyed = router.dispatch(step("keyed-test", "task-join").build());
        assertThat(unkeyed.getResult().getOutput()).contains("\"call\":2");
        assertThat(unkeyed.getDeduplicated()).isFalse();

        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metric(metrics, "tandem_router_deduplicated_calls_total{how=\"joined\",rpc=\"dispatch\"}"))
                .isGreaterThanOrEqualTo(1);
        assertThat(metric(metrics, "tandem_router_deduplicated_calls_total{how=\"recorded\",rpc=\"dispatch\"}"))
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void aRepeatAfterTheRouterLostItsRecordIsAnsweredByTheWorkerWithoutRunningTheModelAgain() {
        var request = step("keyed-fast-test", "task-restart").setIdempotencyKey("task-restart/a/execute").build();
        DispatchResponse first = router.dispatch(request);
        keyedCalls.forgetRecorded(); // the router replica restarted, or the repeat reached another replica

        DispatchResponse repeat = router.dispatch(request);

        // the worker call carries the tenant, the key and the model
        assertThat(first.getResult().getOutput()).contains("\"call\":1")
                .contains("\"key\":\"acme-keyed/task-restart/a/execute@kc-fast\"");
        assertThat(repeat.getDeduplicated()).isFalse(); // routed again here...
        // ...and answered by the worker's record of the same model call: the model ran once
        assertThat(repeat.getResult().getOutput()).isEqualTo(first.getResult().getOutput());
        assertThat(repeat.getResult().getFromCheckpoint()).isTrue();
        // an unkeyed call sends no key and runs again
        assertThat(router.dispatch(step("keyed-fast-test", "task-restart").build()).getResult().getOutput())
                .contains("\"call\":2").doesNotContain("\"key\"");
    }

    @Test
    void everyRepeatOfAKeyReachesTheWorkerReplicaThatRanItWhileKeysSpreadOverTheReplicas() {
        java.util.Set<String> replicas = new java.util.HashSet<>();
        for (int i = 0; i < 16; i++) {
            var request = DispatchRequest.newBuilder().setTaskId("task-ring-" + i).setStepId("a")
                    .setWorkerType("replicas-test").putInputs("text", "What is 6 times 7?").setTenant("acme-keyed")
                    .setIdempotencyKey("task-ring-" + i + "/a/execute").build();
            DispatchResponse first = router.dispatch(request);
            keyedCalls.forgetRecorded();

            DispatchResponse repeat = router.dispatch(request);

            String replica = replicaOf(first);
            replicas.add(replica);
            assertThat(replicaOf(repeat)).as("the repeat of key %d", i).isEqualTo(replica);
            assertThat(repeat.getResult().getOutput()).isEqualTo(first.getResult().getOutput()); // its first call
        }
        assertThat(replicas).containsExactlyInAnyOrder("r1", "r2");
    }

    private static String replicaOf(DispatchResponse response) {
        return response.getResult().getOutput().replaceAll(".*\"replica\":\"(r\\d)\".*", "$1");
    }

    @Test
    void callsWithoutAKeyRunEveryTime() {
        DispatchResponse one = router.dispatch(step("keyed-fast-test", "task-unkeyed").build());
        DispatchResponse two = router.dispatch(step("keyed-fast-test", "task-unkeyed").build());

        assertThat(one.getResult().getOutput()).contains("\"call\":1");
        assertThat(two.getResult().getOutput()).contains("\"call\":2");
        assertThat(List.of(one.getDeduplicated(), two.getDeduplicated())).containsOnly(false);
    }

    @Test
    void aKeyedCallGoesOnWhenItsCallerGoesAwayAndTheRepeatCollectsIt() throws Exception {
        var request = step("keyed-test", "task-gone").setIdempotencyKey("task-gone/a/execute").build();
        // the caller's connection ends while the model runs (a killed oracle)
        callerDies(request, 20);

        DispatchResponse resumed = router.withDeadlineAfter(20, TimeUnit.SECONDS).dispatch(request);

        assertThat(resumed.getDeduplicated()).isTrue();
        assertThat(resumed.getResult().getOutput()).contains("\"call\":1");
    }

    @Test
    void aBatchClassStepRepeatedWhileItWaitsForItsBatchJoinsItInsteadOfSubmittingAnotherItem() throws Exception {
        // the worker holds a batch-class call until its provider batch has the item (here: the slow model's 1.5 s);
        // a resumed oracle's repeat must not become a second worker call, which would be a second batch item
        var end = java.time.Instant.now().plusSeconds(3600);
        var request = step("keyed-test", "task-batch").setIdempotencyKey("task-batch/a/execute")
                .setLatencyClass(dev.tandem.proto.worker.v1.LatencyClass.LATENCY_CLASS_BATCH)
                .setBatchDeadline(com.google.protobuf.Timestamp.newBuilder().setSeconds(end.getEpochSecond()))
                .build();
        callerDies(request, 0); // the oracle that sent it died

        DispatchResponse resumed = router.dispatch(request);

        assertThat(resumed.getDeduplicated()).isTrue();
        assertThat(resumed.getResult().getOutput()).contains("\"call\":1");
        // the worker call's deadline was the batch window's (about an hour), not the caller's
        long deadlineMs = Long.parseLong(resumed.getResult().getOutput().replaceAll(".*\"deadline_ms\":(-?\\d+).*",
                "$1"));
        assertThat(deadlineMs).isGreaterThan(TimeUnit.MINUTES.toMillis(50));
    }

    @Test
    void cancelCallsStopsTheTasksKeyedCallAndNothingIsRecorded() throws Exception {
        var request = step("keyed-test", "task-cancel").setIdempotencyKey("task-cancel/a/execute").build();
        CompletableFuture<StatusRuntimeException> failed = CompletableFuture.supplyAsync(() ->
                catchThrowableOfType(StatusRuntimeException.class,
                        () -> router.withDeadlineAfter(20, TimeUnit.SECONDS).dispatch(request)));
        // cancelled while the router runs it; whether the worker has received it by then is up to the machine's load
        Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                .until(() -> keyedCalls.running("dispatch", "acme-keyed", "task-cancel/a/execute"));
        long started = System.nanoTime();

        int cancelled = router.cancelCalls(CancelCallsRequest.newBuilder().setTaskId("task-cancel")
                .setTenant("acme-keyed").build()).getCancelled();

        assertThat(cancelled).isEqualTo(1);
        StatusRuntimeException error = failed.get(10, TimeUnit.SECONDS);
        assertThat(error).isNotNull();
        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.CANCELLED);
        // stopped, not waited for: the slow model would have answered 1.5 s after the call began
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(1000);
        // a cancelled call is not recorded: the same key runs the step again, to the end
        DispatchResponse again = router.withDeadlineAfter(20, TimeUnit.SECONDS).dispatch(request);
        assertThat(again.getDeduplicated()).isFalse();
        assertThat(again.getResult().getOutput()).contains("\"model\":\"kc-slow\"");
        // another tenant's task of the same id is not touched
        assertThat(router.cancelCalls(CancelCallsRequest.newBuilder().setTaskId("task-cancel").setTenant("other")
                .build()).getCancelled()).isZero();
    }

    @Test
    void aKeyUsedForAnotherStepIsInvalidArgument() {
        router.dispatch(step("keyed-fast-test", "task-reuse").setIdempotencyKey("task-reuse/a/execute").build());

        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class, () -> router.dispatch(
                step("keyed-fast-test", "task-reuse").putInputs("text", "another question")
                        .setIdempotencyKey("task-reuse/a/execute").build()));
        StatusRuntimeException tooLong = catchThrowableOfType(StatusRuntimeException.class, () -> router.dispatch(
                step("keyed-fast-test", "task-reuse").setIdempotencyKey("k".repeat(201)).build()));

        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(fieldViolations(error)).containsExactly("idempotency_key");
        assertThat(tooLong.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(fieldViolations(tooLong)).containsExactly("idempotency_key");
    }

    @Test
    void aRepeatedReviewKeyIsAnsweredFromTheRecordWithoutReviewingAgain() {
        var review = ReviewRequest.newBuilder().setTaskId("task-review").setStepId("s1").setWorkerType("classify")
                .putInputs("text", "The parcel arrived broken.").setCandidateOutput("{\"label\":\"complaint\"}")
                .setCandidateModelId("embedded-minilm").setTenant("acme-keyed")
                .setIdempotencyKey("task-review/s1/review").build();

        ReviewResponse first = router.review(review);
        ReviewResponse repeat = router.review(review);
        ReviewResponse unkeyed = router.review(review.toBuilder().clearIdempotencyKey().build());

        assertThat(first.getReview().getReason()).endsWith("(call 1)");
        assertThat(first.getDeduplicated()).isFalse();
        assertThat(repeat.getReview().getReason()).endsWith("(call 1)");
        assertThat(repeat.getDeduplicated()).isTrue();
        assertThat(unkeyed.getReview().getReason()).endsWith("(call 2)");
    }

    /**
     * Sends the dispatch on a connection of its own and closes that connection once the router runs it as a keyed
     * call, as a killed oracle's ends (the router sees the connection go, not an answer).
     */
    private void callerDies(DispatchRequest request, int deadlineSeconds) throws Exception {
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
        ManagedChannel own = ManagedChannelBuilder.forAddress("localhost", port).usePlaintext().build();
        try {
            var stub = RouterServiceGrpc.newFutureStub(own);
            var call = (deadlineSeconds > 0 ? stub.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS) : stub)
                    .dispatch(request);
            // a caller gone before the router took the call in would leave nothing to join (a loaded machine); the
            // key's own call, not any keyed call: another test's may still be leaving
            Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                    .until(() -> keyedCalls.running("dispatch", request.getTenant(), request.getIdempotencyKey()));
            own.shutdownNow();
            assertThat(catchThrowableOfType(Exception.class, () -> call.get(5, TimeUnit.SECONDS))).isNotNull();
        } finally {
            own.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static double metric(String metrics, String series) {
        return metrics.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l ->
                Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
