package dev.tandem.models.chat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How long a model call may take and whether its caller still waits for it: the caller's deadline (for example a
 * gRPC call's) and a cancellation signal the caller raises when it gives up. Clients derive their per-request
 * timeout from {@link #remaining()} and abort the call in flight on {@link #cancel}; embedded models check
 * {@link #check} between stages. Thread-safe.
 */
public final class CallDeadline {

    private static final CallDeadline NONE = new CallDeadline(false, 0, false);

    private volatile boolean bounded;
    private volatile long deadlineNanos;
    private final boolean deferred;
    private final List<Runnable> listeners = new ArrayList<>();
    private String cancelled;

    private CallDeadline(boolean bounded, long deadlineNanos, boolean deferred) {
        this.bounded = bounded;
        this.deadlineNanos = deadlineNanos;
        this.deferred = deferred;
    }

    /** No deadline and no cancellation: the model's configured timeout alone bounds the call. */
    public static CallDeadline none() {
        return NONE;
    }

    /** A cancellable call without a deadline. */
    public static CallDeadline cancellable() {
        return new CallDeadline(false, 0, false);
    }

    /** A cancellable call that must end within {@code timeout} from now. */
    public static CallDeadline after(Duration timeout) {
        return new CallDeadline(true, System.nanoTime() + timeout.toNanos(), false);
    }

    /**
     * A cancellable call whose caller can wait up to {@code timeout} (hours, a BATCH-class step): a model with a
     * batch path sends it through the provider's batch API.
     */
    public static CallDeadline deferred(Duration timeout) {
        return new CallDeadline(true, System.nanoTime() + timeout.toNanos(), true);
    }

    /** Whether the caller can wait for a provider batch (a BATCH-class step). */
    public boolean deferred() {
        return deferred;
    }

    /** Whether there is a deadline. */
    public boolean bounded() {
        return bounded;
    }

    /** The time left (zero once passed); empty without a deadline. */
    public Optional<Duration> remaining() {
        return bounded ? Optional.of(Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())))
                : Optional.empty();
    }

    /** The time left, at most {@code cap}: the timeout a single request gets. */
    public Duration remainingAtMost(Duration cap) {
        return remaining().filter(r -> r.compareTo(cap) < 0).orElse(cap);
    }

    public boolean expired() {
        return bounded && deadlineNanos - System.nanoTime() <= 0;
    }

    /** Why the caller gave up, when it did. */
    public synchronized Optional<String> cancelled() {
        return Optional.ofNullable(cancelled);
    }

    /** The caller gives up: every registered listener runs once, now. No effect on {@link #none()} or twice. */
    public void cancel(String why) {
        List<Runnable> run;
        synchronized (this) {
            if (this == NONE || cancelled != null) {
                return;
            }
            cancelled = why == null || why.isBlank() ? "cancelled by the caller" : why;
            run = List.copyOf(listeners);
            listeners.clear();
        }
        run.forEach(Runnable::run);
    }

    /**
     * The caller's deadline has passed, as its transport says (a little before this clock might): the deadline is
     * now, and the call in flight is aborted as a timeout.
     */
    public void expire() {
        List<Runnable> run;
        synchronized (this) {
            if (this == NONE || cancelled != null) {
                return;
            }
            deadlineNanos = System.nanoTime();
            bounded = true;
            run = List.copyOf(listeners);
            listeners.clear();
        }
        run.forEach(Runnable::run);
    }

    /**
     * Runs {@code listener} when the call is cancelled or {@linkplain #expire() expired early} (at once when it
     * already is cancelled); closing the registration
     * removes it. A listener runs at most once; one that is already running when its registration is closed
     * finishes (listeners that must not act late guard themselves, as {@link CancellableCalls} does).
     */
    public Registration onCancel(Runnable listener) {
        synchronized (this) {
            if (this == NONE) {
                return () -> { };
            }
            if (cancelled == null) {
                listeners.add(listener);
                return () -> {
                    synchronized (this) {
                        listeners.remove(listener);
                    }
                };
            }
        }
        listener.run();
        return () -> { };
    }

    /**
     * Fails when the caller gave up or the deadline passed: between the stages of an embedded model, and before a
     * request is sent.
     *
     * @throws ModelCallException CANCELLED or TIMEOUT
     */
    public void check(String modelId) {
        var why = cancelled();
        if (why.isPresent()) {
            throw new ModelCallException(ModelCallException.Kind.CANCELLED, modelId, why.get());
        }
        if (expired()) {
            throw new ModelCallException(ModelCallException.Kind.TIMEOUT, modelId, "the caller's deadline passed");
        }
    }

    /** A removable cancellation listener. */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    @Override
    public String toString() {
        return (bounded ? "deadline in " + remaining().orElseThrow().toMillis() + " ms" : "no deadline")
                + cancelled().map(c -> ", cancelled: " + c).orElse("");
    }
}
