package dev.tandem.grpc;

import io.grpc.Context;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs the calls of one gRPC service the way all four services do, in the Mutiny style of the generated service
 * interfaces ({@code Uni} for unary calls, {@code Multi} for server streaming): work that blocks on a virtual
 * thread, work that only computes on the event loop, the task id in the log context while the work runs, and every
 * failure answered with a proper status, never a bare UNKNOWN (statuses pass through, the rest goes through the
 * service's own mapping of its exceptions).
 * <p>
 * The work is offloaded here rather than with {@code @Blocking} or {@code @RunOnVirtualThread} on the method: on
 * the shared HTTP/gRPC server Quarkus can then deliver a unary call's half-close before its message ("Half-closed
 * without a request", quarkusio/quarkus#48940). The work runs in the call's gRPC {@code Context} (Quarkus keeps it
 * in the call's Vert.x context, which the virtual thread carries), so a caller's cancel reaches the downstream calls
 * it makes (the oracle's {@code ClientCancellationTests}); the services still read the deadline and the caller on the
 * call's thread, before handing work over, and pass them on explicitly.
 */
public final class CallRunner {


    private final Executor virtualThreads;
    private final Function<Throwable, StatusRuntimeException> failures;

    /**
     * @param virtualThreads where blocking work runs (the service's {@code @VirtualThreads} executor, wrapped for
     *                       trace context where the service propagates one)
     * @param failures       the service's mapping of its own exceptions to statuses
     */
    public CallRunner(Executor virtualThreads, Function<Throwable, StatusRuntimeException> failures) {
        this.virtualThreads = virtualThreads;
        this.failures = failures;
    }

    /** Work that blocks, on a virtual thread, with the task id in the log context. */
    public <T> Uni<T> onVirtualThread(String taskId, Callable<T> work) {
        return Uni.createFrom().deferred(() -> onEventLoop(taskId, work)).runSubscriptionOn(virtualThreads);
    }

    /** Work that only reads memory, on the calling thread, with the task id in the log context. */
    public <T> Uni<T> onEventLoop(String taskId, Callable<T> work) {
        try (var tag = TaskLogContext.tag(taskId)) {
            try {
                return Uni.createFrom().item(work.call());
            } catch (Exception | Error e) {
                return Uni.createFrom().failure(toStatus(e)); // mapped while the task id is still in the log context
            }
        }
    }

    /**
     * Work started on the calling thread that completes later, holding no thread meanwhile (a group commit, say);
     * the task id is in the log context while it starts.
     */
    public <T> Uni<T> onEventLoopAsync(String taskId, Callable<? extends CompletionStage<T>> work) {
        return Uni.createFrom().<T>completionStage(() -> {
            try (var tag = TaskLogContext.tag(taskId)) {
                return work.call();
            } catch (Exception e) {
                return CompletableFuture.failedFuture(e);
            }
        }).onFailure().transform(failure -> toStatus(unwrap(failure)));
    }

    /**
     * A server-streaming call answered from a virtual thread: the work emits its events to the sink it is given,
     * with the task id in the log context, and a failure ends the stream with a status.
     * <p>
     * The work runs in a gRPC {@link Context} of its own, cancelled when the caller cancels the stream (the
     * subscription is cancelled): the downstream calls it makes, on its thread or on threads it hands the context
     * to ({@link Context#currentContextExecutor}), end with CANCELLED instead of running on for nobody. The context
     * is forked from the call's, so finishing the call cancels nothing the work left behind on purpose. Events
     * emitted after the cancellation are dropped.
     */
    public <T> Multi<T> streamOnVirtualThread(String taskId, Consumer<Consumer<T>> work) {
        return Multi.createFrom().emitter(emitter -> {
            Context.CancellableContext scope = Context.current().fork().withCancellation();
            emitter.onCancellation(() -> scope.cancel(CallerDeadlineInterceptor.CALLER_CANCELLED));
            virtualThreads.execute(() -> scope.run(() -> {
                try (var tag = TaskLogContext.tag(taskId)) {
                    try {
                        work.accept(event -> {
                            if (!emitter.isCancelled()) {
                                emitter.emit(event);
                            }
                        });
                    } catch (RuntimeException | Error e) {
                        if (!emitter.isCancelled()) { // a cancelled stream has nobody to tell
                            emitter.fail(toStatus(e)); // mapped while the task id is still in the log context
                        }
                        return;
                    }
                }
                emitter.complete();
            }));
        });
    }

    /** The status a failure is answered with. */
    public StatusRuntimeException toStatus(Throwable failure) {
        if (failure instanceof StatusRuntimeException status) {
            return status;
        }
        if (failure instanceof StatusException status) {
            return status.getStatus().asRuntimeException(status.getTrailers());
        }
        return failures.apply(failure);
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
