package dev.tandem.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.internal.GrpcUtil;
import io.quarkus.grpc.GlobalInterceptor;
import io.vertx.core.Vertx;
import io.vertx.core.impl.ContextInternal;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Turns the caller's {@code grpc-timeout} header into the call's {@link Context} deadline, and the caller's
 * cancellation into the cancellation of that context (also for calls without a deadline), with a CANCELLED status as
 * its cause; the context of a call that ended normally is cancelled too (releasing its timer), without a cause. The
 * gRPC server that shares the HTTP port (Vert.x based) does not do it, unlike grpc-java's own server; without this a
 * service would not see {@code Context.current().getDeadline()} and could neither refuse expired work nor propagate
 * the deadline to its own downstream calls. Services read the deadline on the call's thread before offloading
 * blocking work.
 */
@GlobalInterceptor
@ApplicationScoped
@Priority(Integer.MAX_VALUE) // outermost: every other interceptor and the service method see the deadline
public class CallerDeadlineInterceptor implements ServerInterceptor {

    /**
     * The cause of a call's context cancelled because its caller cancelled it (reset the stream), also of the context
     * {@link CallRunner} gives a stream's work when its subscriber cancels.
     */
    static final StatusRuntimeException CALLER_CANCELLED = Status.CANCELLED
            .withDescription("the caller cancelled the call").asRuntimeException();

    /**
     * The deadlines of calls that do not arrive on a Vert.x event loop (grpc-java's own server, as in the tests). A
     * call's timer is removed when the call ends: left in the queue until its deadline, each would hold its call's
     * context for the whole deadline (30 s and more) and wake this thread once per call, long after the call.
     */
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
        var t = new Thread(r, "grpc-deadline-timer");
        t.setDaemon(true);
        return t;
    });

    {
        timer.setRemoveOnCancelPolicy(true);
    }

    @PreDestroy
    void close() {
        timer.shutdownNow();
    }

    /**
     * Where the call's deadline timer goes: the event loop the call arrived on (the Vert.x gRPC server of the shared
     * HTTP port calls this on it), else {@link #timer}. Scheduled from its own event loop, a timer joins the loop's
     * queue without waking another thread, and a call that ends on the loop takes it out there; with one timer
     * thread for the service every call woke that thread (a futex wake and a context switch per call, 2-10 % of
     * a service's CPU in docs/benchmarks.md, issue 16). The expiry runs on the event loop: it cancels the context,
     * whose listeners must not block (as none does: they cancel calls and flag model calls).
     */
    ScheduledExecutorService scheduler() {
        if (Vertx.currentContext() instanceof ContextInternal context && context.isEventLoopContext()
                && context.nettyEventLoop().inEventLoop()) {
            return context.nettyEventLoop();
        }
        return timer;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        Long timeoutNanos = headers.get(GrpcUtil.TIMEOUT_KEY);
        if (Context.current().getDeadline() != null) {
            return next.startCall(call, headers);
        }
        // cancellable also without a deadline: a service can then stop the work of a caller that cancelled
        var context = timeoutNanos == null ? Context.current().withCancellation()
                : Context.current().withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS, scheduler());
        var listener = Contexts.interceptCall(context, call, headers, next);
        // release the deadline timer as soon as the call ends rather than when the deadline passes
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onComplete() {
                try {
                    super.onComplete();
                } finally {
                    context.cancel(null);
                }
            }

            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } finally {
                    // with a cause, unlike the call's normal end: a listener tells a caller that cancelled (or whose
                    // deadline passed, the reset arriving before this server's timer) from a call that finished
                    context.cancel(CALLER_CANCELLED);
                }
            }
        };
    }
}
