package dev.tandem.router.dispatch;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.tandem.grpc.BadRequestDetail;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.grpc.RequestFingerprint;
import dev.tandem.grpc.TaskLogContext;
import dev.tandem.router.config.RouterConfig;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

/**
 * Keyed Dispatch and Review calls ({@code idempotency_key}), executed and billed once per key on this replica. The
 * first call with a key runs detached from its caller, in a gRPC context of its own: when the caller goes away (the
 * oracle replica died) the call goes on to its end, bounded by its deadline, so the caller that resumes the task
 * collects it. A call with the key of one in flight joins it; one with the key of a call answered within
 * {@code tandem.router.idempotency.retention} gets the recorded answer. Neither calls a worker or touches budgets,
 * exploration holds or cost metrics again: all of that happened once, in the call that ran.
 * <p>
 * Why here and not in the worker: one Dispatch is a routing decision, failover, hedges and cascade climbs, each a
 * model call on a backend the router chose, and the router is where the call is billed (its cost, the tenant's and
 * the exploration budget). A repeat answered here repeats none of it; a repeat answered by the worker would be
 * routed and billed again and could land on another model or pool.
 * <p>
 * A keyed call ignores its caller's going, a dropped connection (a killed oracle) and a cancellation alike, so it is
 * stopped only by {@link #cancel} ({@code RouterService.CancelCalls}), which the oracle sends when a task is
 * cancelled; that resets the call's worker calls, and the worker stops their model calls. Failed calls are not
 * recorded: a repeat runs again. Per replica: a repeat that reaches another router replica runs again there.
 */
@ApplicationScoped
public class IdempotentCalls {

    private static final Logger LOG = Logger.getLogger(IdempotentCalls.class);

    /** Longest key accepted. */
    public static final int MAX_KEY_CHARS = 200;

    /** The keyed calls of one RPC are distinct from the other's, and keys are per tenant. */
    private record Key(String rpc, String tenant, String key) {
    }

    /** An answer kept for repeats of its key, with the fingerprint of the request that produced it. */
    private record Recorded(ByteString fingerprint, Message answer) {
    }

    /** A keyed call running now. */
    private static final class InFlight {
        final String taskId;
        final ByteString fingerprint;
        final CompletableFuture<Message> answer = new CompletableFuture<>();
        final Context.CancellableContext context = Context.ROOT.withCancellation();

        InFlight(String taskId, ByteString fingerprint) {
            this.taskId = taskId;
            this.fingerprint = fingerprint;
        }
    }

    private final Map<Key, InFlight> inFlight = new ConcurrentHashMap<>();
    private final Cache<Key, Recorded> recorded;
    private final Executor threads;
    private final MeterRegistry registry;

    /**
     * The keyed calls run on plain virtual threads, not on Quarkus' {@code @VirtualThreads} executor: that one runs a
     * task on its submitter's Vert.x duplicated context, where Quarkus keeps the current gRPC {@link Context}, so
     * the detached call and its caller's request shared one slot and the call could pick up the caller's context,
     * and be cancelled with it when the caller went away (a CI run showed it: a resumed call got "the caller
     * cancelled the call"). On a thread of its own the call's context is its own.
     */
    @Inject
    public IdempotentCalls(RouterConfig config, MeterRegistry registry) {
        this(config.idempotency().retention(), config.idempotency().maxBytes(),
                io.opentelemetry.context.Context.taskWrapping(Executors.newVirtualThreadPerTaskExecutor()), registry);
    }

    IdempotentCalls(java.time.Duration retention, long maxBytes, Executor threads, MeterRegistry registry) {
        this.recorded = Caffeine.newBuilder().expireAfterWrite(retention).maximumWeight(maxBytes)
                .<Key, Recorded>weigher((k, v) -> v.answer().getSerializedSize() + 64).build();
        this.threads = threads;
        this.registry = registry;
    }

    /**
     * Runs {@code work} once per key: the answer of the call in flight or recorded under the key, else the answer
     * of {@code work} run now, detached from the caller.
     *
     * @param rpc            "dispatch" or "review"
     * @param request        the request, fingerprinted (without its budget, which a resumed caller computes anew)
     *                       so that a key reused for another call is refused
     * @param callerDeadline how long this caller waits; the call itself runs to the deadline {@code work} applies
     * @param deduplicated   the answer as a repeat gets it (marked as such)
     */
    public <T extends Message> T call(String rpc, String tenant, String key, String taskId, Message request,
                                      Deadline callerDeadline, Supplier<T> work,
                                      java.util.function.UnaryOperator<T> deduplicated) {
        var k = new Key(rpc, tenant, key);
        var fingerprint = RequestFingerprint.of(request);
        var kept = recorded.getIfPresent(k);
        if (kept != null) {
            return repeat(rpc, "recorded", kept.fingerprint(), fingerprint, kept.answer(), deduplicated, key);
        }
        var mine = new InFlight(taskId, fingerprint);
        var running = inFlight.putIfAbsent(k, mine);
        if (running != null) {
            requireSame(running.fingerprint, fingerprint, key);
            counter(rpc, "joined").increment();
            LOG.infof("%s %s joins the call in flight with its key", rpc, key);
            return deduplicated.apply(this.<T>await(running, callerDeadline));
        }
        kept = recorded.getIfPresent(k); // answered between the two looks
        if (kept != null) {
            inFlight.remove(k, mine);
            return repeat(rpc, "recorded", kept.fingerprint(), fingerprint, kept.answer(), deduplicated, key);
        }
        threads.execute(() -> mine.context.run(() -> {
            try (var tag = TaskLogContext.tag(taskId)) {
                T answer = work.get();
                if (mine.context.isCancelled()) {
                    // a cascade climb or failover ended by the cancel may still return an earlier output: the task
                    // was cancelled, so nothing is recorded for a resume
                    throw cancelled();
                }
                recorded.put(k, new Recorded(fingerprint, answer));
                mine.answer.complete(answer);
            } catch (RuntimeException | Error e) {
                mine.answer.completeExceptionally(mine.context.isCancelled() ? cancelled() : e);
            } finally {
                inFlight.remove(k, mine);
                mine.context.cancel(null); // detaches what the call left behind
            }
        }));
        return await(mine, callerDeadline);
    }

    /**
     * Cancels the task's keyed calls in flight here: their worker calls end with CANCELLED, nothing is recorded, and
     * every caller waiting on them gets CANCELLED.
     *
     * @return how many were cancelled
     */
    public int cancel(String taskId, String tenant) {
        int n = 0;
        for (var e : inFlight.entrySet()) {
            if (e.getValue().taskId.equals(taskId) && e.getKey().tenant().equals(tenant)) {
                e.getValue().context.cancel(cancelled());
                Counter.builder("tandem.router.keyed.calls.cancelled")
                        .description("Keyed Dispatch and Review calls in flight stopped by CancelCalls")
                        .tags("rpc", e.getKey().rpc()).register(registry).increment();
                n++;
            }
        }
        if (n > 0) {
            LOG.infof("cancelled %d keyed call(s) of task %s", n, taskId);
        }
        return n;
    }

    /** Whether the keyed call of this RPC, tenant and key is running now (not yet answered, failed or cancelled). */
    public boolean running(String rpc, String tenant, String key) {
        return inFlight.containsKey(new Key(rpc, tenant, key));
    }

    /** Forgets every recorded answer, as a restarted replica has (tests). */
    public void forgetRecorded() {
        recorded.invalidateAll();
    }

    private <T extends Message> T repeat(String rpc, String how, ByteString stored, ByteString fingerprint,
                                         Message answer, java.util.function.UnaryOperator<T> deduplicated,
                                         String key) {
        requireSame(stored, fingerprint, key);
        counter(rpc, how).increment();
        LOG.infof("%s %s answered from the record of its key", rpc, key);
        @SuppressWarnings("unchecked")
        T typed = (T) answer;
        return deduplicated.apply(typed);
    }

    @SuppressWarnings("unchecked")
    private <T extends Message> T await(InFlight call, Deadline callerDeadline) {
        try {
            return (T) (callerDeadline == null ? call.answer.get()
                    : call.answer.get(Math.max(0, callerDeadline.timeRemaining(TimeUnit.NANOSECONDS)),
                            TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            throw Status.DEADLINE_EXCEEDED.withDescription("the keyed call is still running after the caller's "
                    + "deadline; a repeat with the same idempotency_key collects it").asRuntimeException();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (CancellationException e) {
            throw cancelled();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
    }

    private static void requireSame(ByteString stored, ByteString fingerprint, String key) {
        if (!stored.equals(fingerprint)) {
            throw BadRequestDetail.invalidArgument("invalid request: idempotency_key '" + key + "' names another call",
                    List.of(new FieldViolation("idempotency_key", "was used for another request (task, step, "
                            + "worker type, inputs or instructions differ); a key names one call")));
        }
    }

    private static StatusRuntimeException cancelled() {
        return Status.CANCELLED.withDescription("the task's calls were cancelled (CancelCalls)").asRuntimeException();
    }


    private Counter counter(String rpc, String how) {
        return Counter.builder("tandem.router.deduplicated.calls")
                .description("Keyed Dispatch and Review calls answered without executing them again (how: joined "
                        + "the call in flight, or its recorded answer)")
                .tags("rpc", rpc, "how", how).register(registry);
    }
}
