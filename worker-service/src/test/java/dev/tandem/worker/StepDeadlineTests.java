package dev.tandem.worker;

import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.tandem.worker.ExecuteStepTests.step;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The caller's deadline reaches the model call: against a model server that never answers (its configured timeout
 * is ten minutes, the worker's own cap thirty seconds), the model's connection is closed because the caller's
 * deadline passed, and the model call ends as a timeout. A caller that cancels its call (the router stopping a
 * cancelled task's keyed call, or a lost hedge) ends the model call the same way, long before either deadline.
 */
@QuarkusTest
@QuarkusTestResource(HeldModel.class)
class StepDeadlineTests {

    private static final Map<String, String> TICKET = Map.of("text", "I was charged twice for March, please refund.");

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    @GrpcClient("worker")
    io.grpc.Channel channel;

    private static boolean warm;

    /**
     * The first call to a model builds its HTTP client (seconds on a busy machine); a deadline meant for the
     * request must not run out before it is sent.
     */
    @BeforeEach
    void warmUpAndForget() {
        if (!warm) {
            try {
                worker.withDeadlineAfter(10, TimeUnit.SECONDS)
                        .executeStep(step("classify", TICKET, HeldModel.MODEL).build());
            } catch (StatusRuntimeException expected) {
                // the held model never answers
            }
            warm = true;
        }
        HeldModel.forgetEarlierRequests();
    }

    @Test
    void theCallersDeadlineEndsTheModelCall() throws Exception {
        double before = modelErrors("TIMEOUT");
        var failure = catchThrowableOfType(StatusRuntimeException.class, () -> worker
                .withDeadlineAfter(3, TimeUnit.SECONDS).executeStep(step("classify", TICKET, HeldModel.MODEL).build()));

        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        var request = HeldModel.nextRequest();
        assertThat(request.closedByWorker()).as("the model's connection was closed at the deadline").isTrue();
        assertThat(eventually(() -> modelErrors("TIMEOUT") > before)).as("the model call ended as a timeout").isTrue();
    }

    @Test
    void aCallerThatCancelsEndsTheModelCall() throws Exception {
        double before = steps("cancelled");
        var failure = new java.util.concurrent.CompletableFuture<Status>();
        var call = Context.current().withCancellation();
        // a deadline far beyond the worker's own cap (30 s) and the held model's timeout: only the cancel ends it
        call.run(() -> call(step("classify", TICKET, HeldModel.MODEL).build(), failure));
        var request = HeldModel.nextRequest();

        call.cancel(null);

        assertThat(failure.get(20, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
        assertThat(request.closedByWorker()).as("the model's connection was closed when the caller cancelled")
                .isTrue();
        assertThat(eventually(() -> steps("cancelled") > before)).as("the step ended as cancelled").isTrue();
    }

    @Test
    void aKeyedModelCallGoesOnWhileARepeatWaitsForItAndEndsWhenTheLastCallerCancels() throws Exception {
        var key = "acme/task-keyed-cancel/s1/execute@" + HeldModel.MODEL;
        var request = step("classify", TICKET, HeldModel.MODEL).setTaskId("task-keyed-cancel")
                .setIdempotencyKey(key).build();
        var first = Context.current().withCancellation();
        var firstStatus = new java.util.concurrent.CompletableFuture<Status>();
        first.run(() -> call(request, firstStatus));
        var model = HeldModel.nextRequest();
        var repeat = Context.current().withCancellation();
        var repeatStatus = new java.util.concurrent.CompletableFuture<Status>();
        repeat.run(() -> call(request.toBuilder().setAttempt(2).build(), repeatStatus));
        Thread.sleep(300); // the repeat has joined the call

        first.cancel(null); // a hedge lost, say: the repeat still waits for the model call

        assertThat(firstStatus.get(20, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
        assertThat(model.closed.await(1, TimeUnit.SECONDS)).as("the model call went on for the repeat").isFalse();
        repeat.cancel(null);
        assertThat(repeatStatus.get(20, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
        assertThat(model.closedByWorker()).as("the last caller's cancel ended the model call").isTrue();
    }

    /**
     * Calls whose deadline passes as they arrive: the caller resets each stream at its deadline, often before the
     * worker has even started the call, and the worker answers DEADLINE_EXCEEDED into the reset stream. The HTTP-port
     * server wrote such late answers, and the HTTP/2 layer then closed the whole connection (GOAWAY PROTOCOL_ERROR
     * "Request stream N is not correct for server connection"): every other call in flight on it failed INTERNAL, as
     * the router's dispatches did under load (docs/benchmarks.md, *Overload: one backend connection's GOAWAY*). Which
     * answers come late depends on timing; a few hundred such calls made it happen within the first seconds.
     */
    @Test
    void callsWhoseDeadlinePassesLeaveTheOtherCallsOnTheConnectionRunning() throws Exception {
        var bystander = Context.current().withCancellation();
        var bystanderStatus = new java.util.concurrent.CompletableFuture<Status>();
        bystander.run(() -> call(step("classify", TICKET, HeldModel.MODEL).setTaskId("task-bystander").build(),
                bystanderStatus));
        HeldModel.nextRequest();

        var inFlight = new java.util.concurrent.Semaphore(32);
        var codes = new java.util.concurrent.ConcurrentHashMap<Status.Code, java.util.concurrent.atomic.LongAdder>();
        for (int i = 0; i < 3_000 && !bystanderStatus.isDone(); i++) {
            inFlight.acquire();
            var status = new java.util.concurrent.CompletableFuture<Status>();
            status.thenAccept(s -> {
                codes.computeIfAbsent(s.getCode(), c -> new java.util.concurrent.atomic.LongAdder()).increment();
                inFlight.release();
            });
            WorkerServiceGrpc.newStub(channel).withDeadlineAfter(2 + i % 29, TimeUnit.MILLISECONDS).executeStep(
                    step("classify", TICKET, "embedded-minilm").setTaskId("task-expiring-" + i).build(),
                    observer(status));
        }
        inFlight.acquire(32);

        assertThat(bystanderStatus).as("the bystander's call is still running, its connection open (answers to the "
                + "others: %s)", codes).isNotDone();
        assertThat(codes.keySet()).as("every other call answered or expired").isSubsetOf(Status.Code.OK,
                Status.Code.DEADLINE_EXCEEDED, Status.Code.RESOURCE_EXHAUSTED);
        bystander.cancel(null);
        assertThat(bystanderStatus.get(20, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
    }

    private void call(dev.tandem.proto.worker.v1.ExecuteStepRequest request,
                      java.util.concurrent.CompletableFuture<Status> status) {
        WorkerServiceGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.MINUTES).executeStep(request,
                observer(status));
    }

    private static StreamObserver<ExecuteStepResponse> observer(java.util.concurrent.CompletableFuture<Status> status) {
        return new StreamObserver<>() {
            @Override
            public void onNext(ExecuteStepResponse value) {
                status.complete(Status.OK);
            }

            @Override
            public void onError(Throwable t) {
                status.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
            }
        };
    }

    @Test
    void aReviewRunsWithinTheCallersDeadlineToo() throws Exception {
        var review = ReviewStepRequest.newBuilder().setTaskId("task-review-deadline").setStepId("s1")
                .setWorkerType("classify").putAllInputs(TICKET).setCandidateOutput("{\"label\":\"billing\"}")
                .setCandidateModelId("embedded-minilm").setModelId(HeldModel.MODEL).build();
        var failure = catchThrowableOfType(StatusRuntimeException.class,
                () -> worker.withDeadlineAfter(3, TimeUnit.SECONDS).reviewStep(review));

        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(HeldModel.nextRequest().closedByWorker()).as("the reviewer's model call was ended").isTrue();
    }

    /** {@code tandem_worker_steps_seconds_count} of the held model for one outcome. */
    private static double steps(String outcome) {
        var metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("tandem_worker_steps_seconds_count{")
                        && l.contains("model=\"" + HeldModel.MODEL + "\"") && l.contains("outcome=\"" + outcome + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** {@code tandem_worker_model_errors_total} of the held model for one error kind. */
    private static double modelErrors(String kind) {
        var metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("tandem_worker_model_errors_total{")
                        && l.contains("model=\"" + HeldModel.MODEL + "\"") && l.contains("kind=\"" + kind + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** The worker records the error after the caller has its answer: wait for it (bounded). */
    private static boolean eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }
}
