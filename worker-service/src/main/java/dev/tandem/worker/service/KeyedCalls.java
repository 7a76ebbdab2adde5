package dev.tandem.worker.service;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.grpc.RequestFingerprint;
import dev.tandem.grpc.TaskLogContext;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.worker.config.TandemConfig;
import dev.tandem.worker.service.StepException.Reason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Keyed ExecuteStep and ReviewStep calls ({@code idempotency_key}): one model call per key on this worker replica.
 * The router sends its keyed Dispatch's or Review's key with the tenant and the model, the same in a repeat from a
 * restarted or another router replica (whose own record of the key is gone or elsewhere), so such a repeat is not
 * paid again: a call with the key of one in flight joins it, one with the key of a call answered within
 * {@code tandem.worker.idempotency.retention} gets the recorded answer.
 * <p>
 * The call runs on a thread of its own under a deadline of its own (the first caller's), so it outlives the caller
 * that started it as long as another waits for it: it is cancelled when the last caller waiting on it gives up (a
 * reset stream: a hedge lost, CancelCalls, the caller's deadline). A router replica that dies closes its connection
 * without resetting its streams, which the worker does not see; the call then runs to its deadline and the resumed
 * call joins it. A joiner whose call ended by the first caller's deadline or cancellation while its own caller still
 * waits runs it again. Failed calls are not recorded.
 */
@ApplicationScoped
public class KeyedCalls {

    private static final Logger LOG = Logger.getLogger(KeyedCalls.class);

    /** Longest key accepted: the router's key (200) with the tenant and the model id. */
    public static final int MAX_KEY_CHARS = 512;

    /** The keyed calls of one RPC are distinct from the other's. */
    private record Key(String rpc, String key) {
    }

    /** An answer kept for repeats of its key, with the fingerprint of the request that produced it. */
    private record Recorded(ByteString fingerprint, Message answer) {
    }

    /** A keyed call running now, with the callers waiting on it. */
    private static final class InFlight {
        final ByteString fingerprint;
        final CallDeadline deadline;
        final CompletableFuture<Message> answer = new CompletableFuture<>();
        int waiting;

        InFlight(ByteString fingerprint, CallDeadline deadline) {
            this.fingerprint = fingerprint;
            this.deadline = deadline;
        }
    }

    private final Map<Key, InFlight> inFlight = new ConcurrentHashMap<>();
    private final Cache<Key, Recorded> recorded;
    private final Executor threads;
    private final MeterRegistry registry;

    @Inject
    public KeyedCalls(TandemConfig config, MeterRegistry registry) {
        this(config.worker().idempotency().retention(), config.worker().idempotency().maxBytes(),
                io.opentelemetry.context.Context.taskWrapping(Executors.newVirtualThreadPerTaskExecutor()), registry);
    }

    KeyedCalls(Duration retention, long maxBytes, Executor threads, MeterRegistry registry) {
        this.recorded = Caffeine.newBuilder().expireAfterWrite(retention).maximumWeight(maxBytes)
                .<Key, Recorded>weigher((k, v) -> v.answer().getSerializedSize() + k.key().length() + 64).build();
        this.threads = threads;
        this.registry = registry;
        Gauge.builder("tandem.worker.keyed.calls.in.flight", inFlight, Map::size)
                .description("Keyed ExecuteStep and ReviewStep calls running now").register(registry);
    }

    /**
     * Runs {@code work} once per key: the answer recorded or in flight under the key, else the answer of
     * {@code work} run now, on its own thread, with a deadline of its own that mirrors the caller's.
     *
     * @param rpc         "execute" or "review"
     * @param request     the request, fingerprinted: the caller clears what may differ in a repeat (the key, the
     *                    attempt number, the batch deadline)
     * @param caller      this caller's deadline and cancellation: it stops waiting when they say so
     * @param work        the call, given the call's own deadline
     * @param repeated    the answer as a repeat gets it
     */
    public <T extends Message> T call(String rpc, String key, String taskId, Message request, CallDeadline caller,
                                      Function<CallDeadline, T> work, UnaryOperator<T> repeated) {
        var k = new Key(rpc, key);
        var fingerprint = RequestFingerprint.of(request);
        for (int round = 0; ; round++) {
            var kept = recorded.getIfPresent(k);
            if (kept != null) {
                requireSame(kept.fingerprint(), fingerprint, key);
                counter(rpc, "recorded").increment();
                LOG.infof("%s %s answered from the record of its key: the model is not called again", rpc, key);
                return repeated.apply(this.<T>typed(kept.answer()));
            }
            var mine = new InFlight(fingerprint, caller.deferred()
                    ? CallDeadline.deferred(remaining(caller)) : CallDeadline.after(remaining(caller)));
            var running = inFlight.compute(k, (x, current) -> {
                var call = current != null ? current : mine;
                synchronized (call) {
                    call.waiting++;
                }
                return call;
            });
            if (running != mine) {
                try {
                    requireSame(running.fingerprint, fingerprint, key);
                } catch (StepException e) {
                    leave(k, running);
                    throw e;
                }
                counter(rpc, "joined").increment();
                LOG.infof("%s %s joins the model call in flight with its key", rpc, key);
                try {
                    return repeated.apply(await(k, running, caller));
                } catch (StepException e) {
                    if (round == 0 && takeOver(e, running, caller)) {
                        LOG.infof("%s %s: the joined call ended by its first caller's deadline or cancellation; "
                                + "running it for this caller", rpc, key);
                        continue;
                    }
                    throw e;
                }
            }
            if (recorded.getIfPresent(k) != null) { // answered between the two looks
                inFlight.remove(k, mine);
                continue;
            }
            start(k, mine, taskId, work);
            return await(k, mine, caller);
        }
    }

    private <T extends Message> void start(Key k, InFlight call, String taskId, Function<CallDeadline, T> work) {
        threads.execute(() -> {
            try (var tag = TaskLogContext.tag(taskId)) {
                T answer = work.apply(call.deadline);
                recorded.put(k, new Recorded(call.fingerprint, answer));
                call.answer.complete(answer);
            } catch (RuntimeException | Error e) {
                call.answer.completeExceptionally(e);
            } finally {
                inFlight.remove(k, call);
            }
        });
    }

    /** Waits for the call's answer while this caller waits; a caller that gives up leaves the call. */
    private <T extends Message> T await(Key k, InFlight call, CallDeadline caller) {
        var gaveUp = new CompletableFuture<Message>();
        try (var registration = caller.onCancel(() -> gaveUp.completeExceptionally(new StepException(
                caller.cancelled().isPresent() ? Reason.CANCELLED : Reason.DEADLINE_EXCEEDED,
                caller.cancelled().orElse("the caller's deadline has passed"))))) {
            var either = CompletableFuture.anyOf(call.answer, gaveUp);
            var left = caller.remaining();
            Object answer = left.isPresent() ? either.get(Math.max(1, left.get().toNanos()), TimeUnit.NANOSECONDS)
                    : either.get();
            return typed((Message) answer);
        } catch (TimeoutException e) {
            throw new StepException(Reason.DEADLINE_EXCEEDED, "the caller's deadline has passed");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StepException(Reason.CANCELLED, "interrupted");
        } finally {
            leave(k, call);
        }
    }

    /** One caller less; the last caller to leave an unfinished call cancels it (nobody would collect it). */
    private void leave(Key k, InFlight call) {
        boolean last;
        synchronized (call) {
            last = --call.waiting == 0;
        }
        if (last && !call.answer.isDone()) {
            LOG.infof("%s %s: every caller gave up; cancelling the model call", k.rpc(), k.key());
            call.deadline.cancel("every caller of the keyed call gave up");
        }
    }

    /** Whether a joiner runs the call itself: it ended by its own deadline or cancellation, and this caller waits. */
    private static boolean takeOver(StepException e, InFlight joined, CallDeadline caller) {
        boolean endedByItsDeadline = e.reason() == Reason.CANCELLED && joined.deadline.cancelled().isPresent()
                || e.reason() == Reason.DEADLINE_EXCEEDED && joined.deadline.expired();
        return endedByItsDeadline && caller.cancelled().isEmpty() && !caller.expired();
    }

    private static Duration remaining(CallDeadline caller) {
        return caller.remaining().orElse(Duration.ofDays(1));
    }

    /** Keyed calls in flight now. */
    public int inFlight() {
        return inFlight.size();
    }

    @SuppressWarnings("unchecked")
    private <T extends Message> T typed(Message answer) {
        return (T) answer;
    }

    private static void requireSame(ByteString stored, ByteString fingerprint, String key) {
        if (!stored.equals(fingerprint)) {
            throw StepException.invalid(List.of(new FieldViolation("idempotency_key", "'" + key + "' was used for "
                    + "another request (task, step, worker type, inputs, instructions, model or latency class "
                    + "differ); a key names one model call")));
        }
    }

    private Counter counter(String rpc, String how) {
        return Counter.builder("tandem.worker.deduplicated.calls")
                .description("Keyed ExecuteStep and ReviewStep calls answered without calling the model again (how: "
                        + "joined the call in flight, or its recorded answer)")
                .tags("rpc", rpc, "how", how).register(registry);
    }
}
