package dev.tandem.grpc;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The caller's grpc-timeout becomes the call's Context deadline: seen, enforced, propagated and released. */
class CallerDeadlineInterceptorTests {

    static final MethodDescriptor<String, String> CALL = LoopbackServer.method("Call", MethodType.UNARY);
    static final MethodDescriptor<String, String> DOWNSTREAM = LoopbackServer.method("Downstream", MethodType.UNARY);
    /** Takes the request and answers nothing (as a service that offloads its work): only a cancel ends it. */
    static final MethodDescriptor<String, String> HOLD = LoopbackServer.method("Hold", MethodType.UNARY);

    final CallerDeadlineInterceptor interceptor = new CallerDeadlineInterceptor();
    final AtomicReference<Context> seen = new AtomicReference<>();
    final AtomicReference<Deadline> downstreamDeadline = new AtomicReference<>();
    final CountDownLatch held = new CountDownLatch(1);
    final CountDownLatch holdCancelled = new CountDownLatch(1);
    /** What the service does with a call, after recording its context. */
    volatile Behaviour behaviour = (request, server) -> "ok";
    LoopbackServer server;

    interface Behaviour {
        String answer(String request, LoopbackServer server) throws Exception;
    }

    LoopbackServer start() throws Exception {
        var service = ServerServiceDefinition.builder("tandem.test.Loopback")
                .addMethod(CALL, ServerCalls.asyncUnaryCall((request, responses) -> {
                    seen.set(Context.current());
                    try {
                        responses.onNext(behaviour.answer(request, server));
                        responses.onCompleted();
                    } catch (Exception e) {
                        responses.onError(Status.fromThrowable(e).asRuntimeException());
                    }
                }))
                .addMethod(HOLD, ServerCalls.asyncUnaryCall((request, responses) -> {
                    // returns at once, as a service that offloads its work does: grpc-java delivers a cancel to the
                    // call only after the method has returned
                    seen.set(Context.current());
                    Context.current().addListener(c -> holdCancelled.countDown(), Runnable::run);
                    held.countDown();
                }))
                .addMethod(DOWNSTREAM, ServerCalls.asyncUnaryCall((request, responses) -> {
                    downstreamDeadline.set(Context.current().getDeadline());
                    responses.onNext("downstream");
                    responses.onCompleted();
                }))
                .build();
        server = new LoopbackServer(service, interceptor);
        return server;
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        interceptor.close();
    }

    private String call(long timeout, TimeUnit unit) {
        return ClientCalls.blockingUnaryCall(server.channel, CALL,
                io.grpc.CallOptions.DEFAULT.withDeadlineAfter(timeout, unit), "request");
    }

    @Test
    void theCallersDeadlineIsTheCallsContextDeadline() throws Exception {
        start();
        call(300, TimeUnit.SECONDS);

        var deadline = seen.get().getDeadline();
        assertThat(deadline).as("the service sees the caller's deadline").isNotNull();
        // at most what the caller gave; the lower bound leaves the machine 150 s of slack, not a timing claim
        assertThat(deadline.timeRemaining(TimeUnit.SECONDS)).isBetween(150L, 300L);
    }

    @Test
    void aCallWithoutADeadlineGetsNone() throws Exception {
        start();
        ClientCalls.blockingUnaryCall(server.channel, CALL, io.grpc.CallOptions.DEFAULT, "request");

        assertThat(seen.get().getDeadline()).isNull();
    }

    @Test
    void aDownstreamCallMadeInTheCallsContextCarriesTheDeadline() throws Exception {
        behaviour = (request, s) -> ClientCalls.blockingUnaryCall(s.channel, DOWNSTREAM,
                io.grpc.CallOptions.DEFAULT, "from the service");
        start();
        call(300, TimeUnit.SECONDS);

        assertThat(downstreamDeadline.get()).as("the downstream call inherits the caller's deadline").isNotNull();
        assertThat(downstreamDeadline.get().timeRemaining(TimeUnit.SECONDS)).isBetween(150L, 300L);
    }

    @Test
    void whenTheDeadlinePassesTheCallsContextIsCancelled() throws Exception {
        var expired = new CountDownLatch(1);
        behaviour = (request, s) -> {
            Context.current().addListener(c -> expired.countDown(), Runnable::run);
            // a long-running step: it only ends early if the context is cancelled, and then it answers as a
            // service does whose context expired (an answer of "late" could race the client's own deadline timer
            // and arrive first: the call's context is the interceptor's, not the transport's)
            expired.await(60, TimeUnit.SECONDS);
            throw Status.DEADLINE_EXCEEDED.withDescription("the call's context expired").asException();
        };
        start();
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> call(300, TimeUnit.MILLISECONDS));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(expired.await(30, TimeUnit.SECONDS)).as("the service's context was cancelled").isTrue();
        assertThat(seen.get().cancellationCause()).isInstanceOf(TimeoutException.class);
    }

    @Test
    void aCallerThatCancelsCancelsTheCallsContextWithCancelled() throws Exception {
        start();
        var caller = Context.current().withCancellation();
        caller.run(() -> ClientCalls.futureUnaryCall(server.channel.newCall(HOLD, io.grpc.CallOptions.DEFAULT),
                "request"));
        assertThat(held.await(30, TimeUnit.SECONDS)).as("the call reached the service").isTrue();

        caller.cancel(null);

        assertThat(holdCancelled.await(30, TimeUnit.SECONDS)).as("the service's context was cancelled").isTrue();
        // a cause, so a service tells the caller's going from the call's normal end (no cause, below)
        assertThat(Status.fromThrowable(seen.get().cancellationCause()).getCode()).isEqualTo(Status.Code.CANCELLED);
    }

    @Test
    void theDeadlinesTimerIsReleasedWhenTheCallEndsNotWhenTheDeadlinePasses() throws Exception {
        start();
        call(300, TimeUnit.SECONDS);

        var context = seen.get();
        var ended = new CountDownLatch(1);
        context.addListener(c -> ended.countDown(), Runnable::run);
        assertThat(ended.await(30, TimeUnit.SECONDS)).as("the call's context ends with the call").isTrue();
        assertThat(context.cancellationCause()).as("ended, not expired").isNull();
        assertThat(context.getDeadline().isExpired()).isFalse();
    }

    @Test
    void onAVertxEventLoopTheDeadlineTimerIsThatLoopAndStillExpiresAndIsReleased() throws Exception {
        var vertx = io.vertx.core.Vertx.vertx();
        try {
            var loop = vertx.getOrCreateContext();
            var chosen = new java.util.concurrent.CompletableFuture<java.util.concurrent.ScheduledExecutorService>();
            var expired = new CountDownLatch(1);
            var released = new AtomicReference<Context.CancellableContext>();
            loop.runOnContext(v -> {
                var scheduler = interceptor.scheduler();
                chosen.complete(scheduler);
                var expiring = Context.current().withDeadlineAfter(50, TimeUnit.MILLISECONDS, scheduler);
                expiring.addListener(c -> expired.countDown(), Runnable::run);
                // a call that ends before its deadline takes its timer out of the loop's queue
                var ending = Context.current().withDeadlineAfter(300, TimeUnit.SECONDS, scheduler);
                ending.cancel(null);
                released.set(ending);
            });

            assertThat(chosen.get(10, TimeUnit.SECONDS))
                    .isSameAs(((io.vertx.core.impl.ContextInternal) loop).nettyEventLoop());
            assertThat(expired.await(10, TimeUnit.SECONDS)).as("the deadline expired on the event loop").isTrue();
            assertThat(released.get().isCancelled()).isTrue();
            assertThat(released.get().cancellationCause()).as("ended, not expired").isNull();
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        // off an event loop (grpc-java's server, a test thread): the interceptor's own timer thread
        assertThat(interceptor.scheduler()).isNotInstanceOf(io.netty.channel.EventLoop.class);
    }
}
