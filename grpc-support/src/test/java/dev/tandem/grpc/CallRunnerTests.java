package dev.tandem.grpc;

import com.google.rpc.BadRequest;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import org.jboss.logging.MDC;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The call wrapper the four services share: where work runs, the task id in the log context, failures as statuses. */
class CallRunnerTests {

    static final MethodDescriptor<String, String> UNARY = LoopbackServer.method("Unary", MethodType.UNARY);
    static final MethodDescriptor<String, String> SERVER_STREAMING =
            LoopbackServer.method("ServerStreaming", MethodType.SERVER_STREAMING);
    static final Duration WAIT = Duration.ofSeconds(10);

    /** A service's own exception for a refused request, mapped the way the services map theirs. */
    static final class Refused extends RuntimeException {
        final List<FieldViolation> violations;

        Refused(List<FieldViolation> violations) {
            super("invalid request: " + violations.size() + " fields");
            this.violations = violations;
        }
    }

    /** What the mapping saw in the log context when it ran, in order. */
    final List<String> taskIdsWhileMapping = new ArrayList<>();
    /** The log context's task id on the virtual thread just after each piece of work. */
    final LinkedBlockingQueue<String> taskIdsAfterWork = new LinkedBlockingQueue<>();

    ExecutorService threads;
    CallRunner runner;

    @BeforeEach
    void start() {
        MDC.clear();
        threads = Executors.newVirtualThreadPerTaskExecutor();
        Executor recording = work -> threads.execute(() -> {
            work.run();
            taskIdsAfterWork.add(String.valueOf(MDC.get(TaskLogContext.KEY)));
        });
        runner = new CallRunner(recording, failure -> {
            taskIdsWhileMapping.add(String.valueOf(MDC.get(TaskLogContext.KEY)));
            if (failure instanceof Refused refused) {
                return BadRequestDetail.invalidArgument(refused.getMessage(), refused.violations);
            }
            return Status.INTERNAL.withDescription("mapped " + failure.getClass().getSimpleName())
                    .asRuntimeException();
        });
    }

    @AfterEach
    void stop() throws InterruptedException {
        threads.shutdown();
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        MDC.clear();
    }

    /** The task id left in the log context by the next piece of work (the call answers before the work returns). */
    String afterWork() throws InterruptedException {
        return taskIdsAfterWork.poll(10, TimeUnit.SECONDS);
    }

    @Test
    void blockingWorkRunsOnAVirtualThreadWithTheTaskIdInTheLogContextAndClearsItAfter() throws Exception {
        var seen = runner.onVirtualThread("task-7", () -> Thread.currentThread().isVirtual() + " "
                + MDC.get(TaskLogContext.KEY)).await().atMost(WAIT);

        assertThat(seen).isEqualTo("true task-7");
        assertThat(afterWork()).isEqualTo("null");
        assertThat(MDC.get(TaskLogContext.KEY)).isNull();
    }

    @Test
    void eventLoopWorkRunsOnTheCallingThreadWithTheTaskIdInTheLogContextAndClearsItAfter() {
        var caller = Thread.currentThread();
        var seen = runner.onEventLoop("task-8", () -> (Thread.currentThread() == caller) + " "
                + MDC.get(TaskLogContext.KEY)).await().atMost(WAIT);

        assertThat(seen).isEqualTo("true task-8");
        assertThat(MDC.get(TaskLogContext.KEY)).isNull();
    }

    @Test
    void aFailureIsMappedWhileTheTaskIdIsStillInTheLogContextAndTheContextIsClearedAfter() throws Exception {
        var failure = catchThrowableOfType(StatusRuntimeException.class, () -> runner.onVirtualThread("task-9", () -> {
            throw new IllegalStateException("boom");
        }).await().atMost(WAIT));

        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(failure.getStatus().getDescription()).isEqualTo("mapped IllegalStateException");
        assertThat(taskIdsWhileMapping).containsExactly("task-9");
        assertThat(afterWork()).isEqualTo("null");
    }

    @Test
    void aBlankTaskIdLeavesTheLogContextAsItIs() {
        MDC.put(TaskLogContext.KEY, "set-by-the-service");
        try {
            var seen = runner.onEventLoop(" ", () -> MDC.get(TaskLogContext.KEY)).await().atMost(WAIT);
            assertThat(seen).isEqualTo("set-by-the-service");
            assertThat(MDC.get(TaskLogContext.KEY)).isEqualTo("set-by-the-service");
        } finally {
            MDC.remove(TaskLogContext.KEY);
        }
    }

    @Test
    void aStatusPassesThroughWithoutTheServicesMapping() {
        var notFound = Status.NOT_FOUND.withDescription("no such stream").asRuntimeException();

        assertThatThrownBy(() -> runner.onEventLoop("task-1", () -> {
            throw notFound;
        }).await().atMost(WAIT)).isSameAs(notFound);
        assertThatThrownBy(() -> runner.onEventLoop(null, () -> {
            throw Status.ABORTED.withDescription("checked").asException();
        }).await().atMost(WAIT)).isInstanceOf(StatusRuntimeException.class).hasMessage("ABORTED: checked");
        assertThat(taskIdsWhileMapping).isEmpty();
    }

    @Test
    void asyncWorkIsTaggedWhileItStartsAndItsFailureIsUnwrappedBeforeMapping() {
        var started = new ArrayList<String>();
        var value = runner.<String>onEventLoopAsync("task-2", () -> {
            started.add(String.valueOf(MDC.get(TaskLogContext.KEY)));
            return CompletableFuture.completedFuture("done");
        }).await().atMost(WAIT);
        var failure = catchThrowableOfType(StatusRuntimeException.class, () -> runner.onEventLoopAsync("task-3",
                () -> CompletableFuture.<String>failedFuture(new CompletionException(new ArithmeticException())))
                .await().atMost(WAIT));

        assertThat(value).isEqualTo("done");
        assertThat(started).containsExactly("task-2");
        assertThat(MDC.get(TaskLogContext.KEY)).isNull();
        assertThat(failure.getStatus().getDescription()).isEqualTo("mapped ArithmeticException");
    }

    /** What Quarkus does with a service method's Uni: the item, or the failure as the call's status. */
    static <T> void answer(Uni<T> response, StreamObserver<T> responses) {
        response.subscribe().with(item -> {
            responses.onNext(item);
            responses.onCompleted();
        }, responses::onError);
    }

    /** What Quarkus does with a service method's Multi, cancelling the subscription when the caller cancels. */
    static <T> void answer(Multi<T> events, StreamObserver<T> observer) {
        var subscription = events.subscribe().with(observer::onNext, observer::onError, observer::onCompleted);
        ((ServerCallStreamObserver<T>) observer).setOnCancelHandler(subscription::cancel);
    }

    @Test
    void aRefusedRequestReachesTheClientAsInvalidArgumentWithItsFieldViolationsInTheTrailers() throws Exception {
        var violations = List.of(new FieldViolation("task_id", "must not be empty"),
                new FieldViolation("requirements.min_quality", "must be in [0, 1]"));
        var service = ServerServiceDefinition.builder("tandem.test.Loopback")
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((request, responses) -> answer(
                        runner.onVirtualThread(null, () -> {
                            if (request.isEmpty()) {
                                throw new Refused(violations);
                            }
                            return "echo " + request;
                        }), responses)))
                .addMethod(SERVER_STREAMING, ServerCalls.asyncServerStreamingCall((request, events) -> answer(
                        runner.<String>streamOnVirtualThread("task-4", sink -> {
                            sink.accept("first " + request);
                            sink.accept("second " + request);
                            if (request.equals("fail")) {
                                throw new IllegalStateException("after two events");
                            }
                        }), events)))
                .build();
        try (var server = new LoopbackServer(service)) {
            var options = CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS);

            assertThat(ClientCalls.blockingUnaryCall(server.channel, UNARY, options, "hi")).isEqualTo("echo hi");
            var refused = catchThrowableOfType(StatusRuntimeException.class,
                    () -> ClientCalls.blockingUnaryCall(server.channel, UNARY, options, ""));
            assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(refused.getStatus().getDescription()).isEqualTo("invalid request: 2 fields");
            var details = StatusProto.fromThrowable(refused);
            assertThat(details).isNotNull();
            assertThat(details.getDetailsList()).hasSize(1);
            var badRequest = details.getDetails(0).unpack(BadRequest.class);
            assertThat(badRequest.getFieldViolationsList()).extracting(v -> v.getField() + ": " + v.getDescription())
                    .containsExactly("task_id: must not be empty", "requirements.min_quality: must be in [0, 1]");

            var events = new ArrayList<String>();
            ClientCalls.blockingServerStreamingCall(server.channel, SERVER_STREAMING, options, "ok")
                    .forEachRemaining(events::add);
            assertThat(events).containsExactly("first ok", "second ok");
            var received = new ArrayList<String>();
            var failed = catchThrowableOfType(StatusRuntimeException.class, () -> ClientCalls
                    .blockingServerStreamingCall(server.channel, SERVER_STREAMING, options, "fail")
                    .forEachRemaining(received::add));
            assertThat(received).containsExactly("first fail", "second fail");
            assertThat(failed.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
            assertThat(failed.getStatus().getDescription()).isEqualTo("mapped IllegalStateException");
            assertThat(taskIdsWhileMapping).contains("task-4");
        }
    }

    @Test
    void aStreamItsCallerCancelsCancelsTheDownstreamCallItsWorkIsWaitingOn() throws Exception {
        var downstreamCalled = new CountDownLatch(1);
        var downstreamCancelled = new CountDownLatch(1);
        var downstreamService = ServerServiceDefinition.builder("tandem.test.Loopback")
                .addMethod(UNARY, ServerCalls.<String, String>asyncUnaryCall((request, responses) -> {
                    // never answers: only a cancellation ends this call before its deadline
                    ((ServerCallStreamObserver<String>) responses).setOnCancelHandler(downstreamCancelled::countDown);
                    downstreamCalled.countDown();
                }))
                .build();
        var workSaw = new LinkedBlockingQueue<String>();
        try (var downstream = new LoopbackServer(downstreamService)) {
            var service = ServerServiceDefinition.builder("tandem.test.Loopback")
                    .addMethod(SERVER_STREAMING, ServerCalls.asyncServerStreamingCall((request, events) -> answer(
                            runner.<String>streamOnVirtualThread(null, sink -> {
                                sink.accept("started");
                                try {
                                    ClientCalls.blockingUnaryCall(downstream.channel, UNARY,
                                            CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), "wait");
                                    workSaw.add("answered");
                                } catch (StatusRuntimeException e) {
                                    workSaw.add(e.getStatus().getCode().name());
                                }
                            }), events)))
                    .build();
            try (var server = new LoopbackServer(service)) {
                var call = Context.current().withCancellation();
                Iterator<String> events = call.call(() -> ClientCalls.blockingServerStreamingCall(server.channel,
                        SERVER_STREAMING, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), "go"));
                assertThat(events.next()).isEqualTo("started");
                assertThat(downstreamCalled.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

                call.cancel(null);

                assertThat(downstreamCancelled.await(WAIT.toSeconds(), TimeUnit.SECONDS))
                        .as("the downstream call was cancelled with the stream").isTrue();
                assertThat(workSaw.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("CANCELLED");
            }
        }
    }

    @Test
    void theBadRequestDetailCanJoinOtherDetails() throws Exception {
        var detail = BadRequestDetail.of(List.of(
                new FieldViolation("inputs.text", "required input 'text' is missing")));

        var badRequest = detail.unpack(BadRequest.class);
        assertThat(badRequest.getFieldViolationsCount()).isEqualTo(1);
        assertThat(badRequest.getFieldViolations(0).getField()).isEqualTo("inputs.text");
        assertThat(badRequest.getFieldViolations(0).getDescription()).isEqualTo("required input 'text' is missing");
    }
}
