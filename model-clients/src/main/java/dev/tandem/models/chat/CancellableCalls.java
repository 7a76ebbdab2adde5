package dev.tandem.models.chat;

import dev.tandem.models.chat.ModelCallException.Kind;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Runs a blocking provider call so that the caller's cancellation, or its deadline passing, aborts it. The SDKs' blocking calls expose no
 * handle to cancel, so the call runs on a virtual thread that is interrupted on cancellation: interrupting a
 * virtual thread blocked in connect, read or write of a {@link java.net.Socket} closes the socket (documented
 * there since JDK 21), so the provider sees the connection closed and stops generating, and the HTTP client
 * fails at once. A call from a platform thread runs on a new virtual thread for this reason.
 */
public final class CancellableCalls {

    /** Ends calls whose deadline passed; one daemon thread, it only interrupts. */
    private static final ScheduledThreadPoolExecutor EXPIRY = expiryTimer();

    private CancellableCalls() {
    }

    private static ScheduledThreadPoolExecutor expiryTimer() {
        var timer = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().daemon().name("model-call-deadlines")
                .factory());
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /**
     * The call's result; a failure while the caller has given up is CANCELLED, one after the caller's deadline
     * passed is TIMEOUT.
     *
     * @throws ModelCallException CANCELLED or TIMEOUT before the call when the caller already gave up
     */
    public static <T> T call(CallDeadline deadline, String modelId, Supplier<T> call) {
        deadline.check(modelId);
        if (deadline == CallDeadline.none()) {
            return call.get();
        }
        if (Thread.currentThread().isVirtual()) {
            return interruptible(deadline, modelId, call);
        }
        var result = new AtomicReference<T>();
        var failure = new AtomicReference<RuntimeException>();
        var thread = Thread.ofVirtual().name("model-call-" + modelId).start(() -> {
            try {
                result.set(interruptible(deadline, modelId, call));
            } catch (RuntimeException e) {
                failure.set(e);
            }
        });
        try {
            thread.join();
        } catch (InterruptedException e) {
            // whoever interrupts this thread gives up on the call
            deadline.cancel("the calling thread was interrupted");
            Thread.currentThread().interrupt();
            try {
                thread.join(Duration.ofSeconds(5));
            } catch (InterruptedException again) {
                Thread.currentThread().interrupt();
            }
            throw new ModelCallException(Kind.CANCELLED, modelId, "the calling thread was interrupted");
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return result.get();
    }

    private static <T> T interruptible(CallDeadline deadline, String modelId, Supplier<T> call) {
        var thread = Thread.currentThread();
        var running = new boolean[] {true};
        Runnable abort = () -> {
            synchronized (running) {
                if (running[0]) {
                    thread.interrupt();
                }
            }
        };
        var registration = deadline.onCancel(abort);
        // the request timeout is cut to the deadline too, but that ends only the HTTP client's wait; this also
        // closes the connection, so the provider stops working for a caller that has gone
        ScheduledFuture<?> expiry = deadline.remaining()
                .map(left -> EXPIRY.schedule(abort, left.toNanos(), TimeUnit.NANOSECONDS)).orElse(null);
        try {
            return call.get();
        } catch (RuntimeException e) {
            throw translate(e, deadline, modelId);
        } finally {
            registration.close();
            if (expiry != null) {
                expiry.cancel(false);
            }
            synchronized (running) {
                running[0] = false;
            }
            if (deadline.cancelled().isPresent() || deadline.expired()) {
                // an interrupt of ours that arrived after the socket work ended must not leak to the caller
                Thread.interrupted();
            }
        }
    }

    private static RuntimeException translate(RuntimeException e, CallDeadline deadline, String modelId) {
        var why = deadline.cancelled();
        if (why.isPresent()) {
            return new ModelCallException(Kind.CANCELLED, modelId, why.get(), 0, null, "", e);
        }
        if (deadline.expired() && e instanceof ModelCallException m
                && (m.kind() == Kind.TIMEOUT || m.kind() == Kind.UNAVAILABLE)) {
            return new ModelCallException(Kind.TIMEOUT, modelId, "no answer before the caller's deadline", 0, null,
                    "", e);
        }
        return e;
    }
}
