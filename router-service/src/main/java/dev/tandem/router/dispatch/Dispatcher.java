package dev.tandem.router.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

import jakarta.enterprise.context.ApplicationScoped;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.RetryInfo;
import dev.tandem.grpc.TaskLogContext;
import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc.WorkerServiceBlockingStub;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.client.WorkerPools;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.BackendProfiles;
import dev.tandem.router.selection.CandidateEvaluation;
import dev.tandem.router.selection.Selection;
import io.grpc.Context;
import com.google.protobuf.Timestamp;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.jboss.logging.Logger;

/**
 * Executes one routing decision: calls the ranked candidates in order until one answers. Per candidate: skipped
 * while rate limited or when its pool is full; called through its backend's guard (retries with jitter on
 * UNAVAILABLE/ABORTED, circuit breaker); on UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED (its RetryInfo
 * delay honoured), INTERNAL, UNKNOWN or ABORTED the next candidate is tried; any other status (the request itself
 * is wrong) is returned to the caller at once. Latency-critical steps on hedged tiers get a second call on the next
 * candidate when the first is slower than its backend's p95; the first answer wins and the other is cancelled.
 * Every call is recorded as an {@link Attempt} with its cost.
 * <p>
 * Longer than most classes on purpose: failover, the guarded call, hedging and the attempt log are one loop over
 * the ranked candidates. A hedge races two calls of that same loop, sharing its attempt list, attempt numbers and
 * pool slots, so taking it out would mean passing all of them across. Choosing the route is {@link RouteChoice}.
 */
@ApplicationScoped
public class Dispatcher {

    private static final Logger LOG = Logger.getLogger(Dispatcher.class);

    /** One call to one backend with the deadline already applied to the stub. */
    @FunctionalInterface
    public interface BackendCall<T> {
        T call(WorkerServiceBlockingStub stub, Backend backend, int attempt);
    }

    /**
     * What is called and how its response is read.
     *
     * @param batch a BATCH-class call, which waits for the provider's batch: one attempt may take until the
     *              dispatch's deadline (the task's batch deadline), not just {@code dispatch.attempt-timeout}
     */
    public record Spec<T>(String what, Class<T> type, BackendCall<T> call, Function<T, TokenUsage> usage,
                          ToDoubleFunction<T> modelSeconds, String workerType, double latencyTargetMs, boolean batch) {
    }

    /** The successful call of a decision and every attempt made for it. */
    public record Outcome<T>(T response, Backend backend, List<Attempt> attempts, int succeededIndex,
                             double costUsd, TokenUsage usage) {
    }

    /** A call's end as failover sees it. */
    private record CallEnd<T>(T response, Backend backend, int attemptIndex, StatusRuntimeException fatal) {
        boolean succeeded() {
            return response != null;
        }
    }

    private final WorkerPools pools;

    private final BackendProfiles profiles;

    private final RouterConfig config;

    private final MeterRegistry registry;

    private final ExecutorService threads;

    /**
     * The hedged calls run on plain virtual threads, not on Quarkus' {@code @VirtualThreads} executor: that one runs
     * a task on its submitter's Vert.x duplicated context, where Quarkus keeps the current gRPC {@link Context}, so
     * the primary and the hedge would share one slot with each other and with the dispatch's own thread (each call
     * could run in, and the loser's cancel miss, the other's context; as with {@code IdempotentCalls}).
     */
    public Dispatcher(WorkerPools pools, BackendProfiles profiles, RouterConfig config, MeterRegistry registry) {
        this.pools = pools;
        this.profiles = profiles;
        this.config = config;
        this.registry = registry;
        this.threads = Executors.newVirtualThreadPerTaskExecutor();
    }

    /**
     * Calls the selection's candidates in rank order.
     *
     * @param attemptNumbers the dispatch-wide attempt counter (the worker's checkpoint key; retries reuse it)
     * @throws RoutingFailedException when no candidate answered
     * @throws StatusRuntimeException the worker's own status when it rejected the request
     */
    public <T> Outcome<T> run(Selection selection, Deadline deadline, Spec<T> spec, int cascadeLevel,
                              AtomicInteger attemptNumbers, DispatchTrace trace) {
        List<Attempt> attempts = Collections.synchronizedList(new ArrayList<>());
        List<CandidateEvaluation> candidates = selection.eligible();
        int maxBackends = config.dispatch().maxAttempts();
        int tried = 0;
        int i = 0;
        while (i < candidates.size() && tried < maxBackends) {
            if (deadline.isExpired()) {
                throw deadlinePassed(spec, attempts);
            }
            Backend backend = candidates.get(i++).backend();
            if (!available(backend, attempts, cascadeLevel, trace)) {
                continue;
            }
            tried++;
            int attemptNumber = attemptNumbers.incrementAndGet();
            CallEnd<T> end;
            long hedgeDelay = hedgeDelayNanos(backend, spec);
            if (hedgeDelay > 0 && i < candidates.size()) {
                int[] next = {i};
                end = hedged(backend, attemptNumber, candidates, next, hedgeDelay, deadline, spec, cascadeLevel,
                        attempts, attemptNumbers, trace);
                tried += next[0] > i ? 1 : 0;
                i = next[0];
            } else {
                end = invoke(backend, attemptNumber, false, new AtomicBoolean(), deadline, spec, cascadeLevel,
                        attempts, trace);
            }
            if (end.fatal() != null) {
                throw end.fatal();
            }
            if (end.succeeded()) {
                Attempt ok = attempts.get(end.attemptIndex());
                return new Outcome<>(end.response(), end.backend(), List.copyOf(attempts), end.attemptIndex(),
                        sumCost(attempts), ok.getUsage());
            }
        }
        if (deadline.isExpired()) {
            throw deadlinePassed(spec, attempts);
        }
        throw exhausted(spec, attempts);
    }

    /**
     * A BATCH-class call's deadline: the task's batch deadline (a timestamp, as the oracle sent it), or the caller's
     * gRPC deadline when that is sooner; the default one ({@link #deadlineOrDefault}) when no batch deadline is set.
     */
    Deadline deadlineFor(Deadline callerDeadline, boolean batch, Timestamp batchDeadline) {
        if (!batch || batchDeadline.getSeconds() == 0) {
            return deadlineOrDefault(callerDeadline);
        }
        long endMillis = batchDeadline.getSeconds() * 1000 + batchDeadline.getNanos() / 1_000_000;
        // in milliseconds: Deadline saturates a far end (the nanoseconds of a deadline past ~2300 overflowed a long
        // into a deadline already passed)
        long left = Math.max(0, endMillis - System.currentTimeMillis());
        Deadline batchEnd = Deadline.after(left, TimeUnit.MILLISECONDS);
        return callerDeadline == null ? batchEnd : batchEnd.minimum(callerDeadline);
    }

    /** The caller's deadline, or the configured default ({@code dispatch.default-deadline}) when it set none. */
    Deadline deadlineOrDefault(Deadline callerDeadline) {
        return callerDeadline != null ? callerDeadline
                : Deadline.after(config.dispatch().defaultDeadline().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Whether a candidate can be called now; records why not when it cannot (and takes its pool slot when it can). */
    private boolean available(Backend backend, List<Attempt> attempts, int cascadeLevel, DispatchTrace trace) {
        long limited = pools.rateLimitedForNanos(backend);
        if (limited > 0) {
            attempts.add(attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_RATE_LIMITED, "still rate limited for "
                    + Math.max(1, limited / 1_000_000) + " ms", 0, cascadeLevel).build());
            trace.add("skipped " + backend.key() + ": rate limited for another " + limited / 1_000_000 + " ms");
            return false;
        }
        if (!pools.tryAcquire(backend.pool())) {
            attempts.add(attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_POOL_FULL,
                    "pool full (capacity " + backend.pool().capacity() + ")", 0, cascadeLevel).build());
            trace.add("skipped " + backend.key() + ": pool '" + backend.pool().id() + "' full");
            return false;
        }
        return true;
    }

    /**
     * One backend through its guard (retries included). The pool slot taken by {@link #available} is released
     * here.
     */
    private <T> CallEnd<T> invoke(Backend backend, int attemptNumber, boolean hedged, AtomicBoolean cancelledByUs,
                                  Deadline deadline, Spec<T> spec, int cascadeLevel, List<Attempt> attempts,
                                  DispatchTrace trace) {
        int[] tries = {0};
        int[] succeededAt = {-1};
        // a batch-class call waits for the provider's batch: the dispatch's (batch) deadline bounds it
        long attemptTimeout = spec.batch() ? Long.MAX_VALUE / 4 : config.dispatch().attemptTimeout().toNanos();
        Callable<T> once = () -> {
            boolean retry = tries[0]++ > 0;
            if (retry) {
                count("tandem.router.retries", backend);
                trace.add("retrying " + backend.key() + " after a transient error");
            }
            Deadline perTry = Deadline.after(attemptTimeout, TimeUnit.NANOSECONDS).minimum(deadline);
            long start = System.nanoTime();
            try {
                T response = spec.call().call(pools.stub(backend.pool()).withDeadline(perTry), backend, attemptNumber);
                long nanos = System.nanoTime() - start;
                profiles.recordSuccess(backend, nanos);
                TokenUsage usage = spec.usage().apply(response);
                double gpu = Pricing.gpuCostUsd(backend.pool(), spec.modelSeconds().applyAsDouble(response));
                double cost = Pricing.tokenCostUsd(backend.model(), usage) + gpu;
                Attempt a = attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED, "", nanos / 1e6, cascadeLevel)
                        .setCostUsd(cost).setGpuCostUsd(gpu).setUsage(usage).setRetry(retry).setHedged(hedged)
                        .build();
                synchronized (attempts) {
                    attempts.add(a);
                    succeededAt[0] = attempts.size() - 1;
                }
                trace.add(String.format(Locale.ROOT, "%s on %s answered in %.0f ms: %d input (+%d cached) "
                                + "/ %d output tokens, $%.6f%s", spec.what(), backend.key(), nanos / 1e6,
                        usage.getInputTokens(), usage.getCachedInputTokens(), usage.getOutputTokens(), cost,
                        gpu > 0 ? String.format(Locale.ROOT, " (GPU $%.6f)", gpu) : ""));
                return response;
            } catch (StatusRuntimeException e) {
                recordFailedCall(backend, e, System.nanoTime() - start, retry, hedged, cancelledByUs.get(),
                        cascadeLevel, attempts, trace, spec);
                throw e;
            } catch (RuntimeException e) {
                long nanos = System.nanoTime() - start;
                profiles.recordFailure(backend, nanos, "CLIENT_ERROR");
                attempts.add(attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_BACKEND_FAILED, e.toString(),
                        nanos / 1e6, cascadeLevel).setRetry(retry).setHedged(hedged).setStatusCode("CLIENT_ERROR")
                        .build());
                trace.add(backend.key() + " failed on the client side: " + e);
                throw e;
            }
        };
        try {
            T response = pools.call(backend, once, spec.type());
            return new CallEnd<>(response, backend, succeededAt[0], null);
        } catch (CircuitBreakerOpenException e) {
            attempts.add(attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_CIRCUIT_OPEN,
                    "circuit open for backend " + backend.key(), 0, cascadeLevel).setHedged(hedged).build());
            trace.add("skipped " + backend.key() + ": circuit open");
            return new CallEnd<>(null, backend, -1, null);
        } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (WorkerPools.isBackendFailure(code) || (code == Status.Code.CANCELLED && cancelledByUs.get())) {
                return new CallEnd<>(null, backend, -1, null);
            }
            return new CallEnd<>(null, backend, -1, e);
        } catch (Exception e) {
            return new CallEnd<>(null, backend, -1, null);
        } finally {
            pools.release(backend.pool());
        }
    }

    private <T> void recordFailedCall(Backend backend, StatusRuntimeException e, long nanos, boolean retry,
                                      boolean hedged, boolean cancelledByUs, int cascadeLevel, List<Attempt> attempts,
                                      DispatchTrace trace, Spec<T> spec) {
        Status.Code code = e.getStatus().getCode();
        String error = code + ": " + e.getStatus().getDescription();
        Attempt.Builder a = attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_BACKEND_FAILED, error, nanos / 1e6,
                cascadeLevel).setRetry(retry).setHedged(hedged).setStatusCode(code.name());
        if (code == Status.Code.CANCELLED && cancelledByUs) {
            // not a failure of the backend; its usage never arrives, so its cost is unknown to the router
            attempts.add(a.setOutcome(AttemptOutcome.ATTEMPT_OUTCOME_HEDGE_CANCELLED)
                    .setError("cancelled: the other hedged call answered first (cost unknown: a provider may "
                            + "still bill the tokens it produced)").build());
            trace.add("cancelled the slower hedged call on " + backend.key());
            return;
        }
        if (code == Status.Code.RESOURCE_EXHAUSTED) {
            long cooldown = cooldownNanos(e);
            pools.rateLimit(backend, cooldown);
            profiles.recordFailure(backend, nanos, code.name());
            attempts.add(a.setOutcome(AttemptOutcome.ATTEMPT_OUTCOME_RATE_LIMITED)
                    .setError(error + "; kept out of selection for " + cooldown / 1_000_000 + " ms").build());
            trace.add(backend.key() + " rate limited (" + e.getStatus().getDescription() + "): out of selection for "
                    + cooldown / 1_000_000 + " ms, failing over");
            LOG.warnf("%s on %s rate limited; out of selection for %d ms", spec.what(), backend.key(),
                    cooldown / 1_000_000);
            return;
        }
        if (WorkerPools.isBackendFailure(code)) {
            profiles.recordFailure(backend, nanos, code.name());
            attempts.add(a.build());
            trace.add(spec.what() + " on " + backend.key() + " failed (" + error + ")");
            LOG.warnf("%s on %s failed (%s)", spec.what(), backend.key(), error);
            return;
        }
        // the worker judged the request itself wrong: another backend would say the same
        profiles.recordSuccess(backend, nanos);
        attempts.add(a.setOutcome(AttemptOutcome.ATTEMPT_OUTCOME_REQUEST_REJECTED).build());
        trace.add(backend.key() + " rejected the request (" + error + "): returned to the caller, no failover");
    }

    /**
     * The primary call, and after {@code delayNanos} without an answer a hedged call on the next available
     * candidate; the first answer wins and the other call is cancelled. {@code next[0]} is advanced past the
     * candidates considered for the hedge.
     */
    private <T> CallEnd<T> hedged(Backend primary, int attemptNumber, List<CandidateEvaluation> candidates, int[] next,
                                  long delayNanos, Deadline deadline, Spec<T> spec, int cascadeLevel,
                                  List<Attempt> attempts, AtomicInteger attemptNumbers, DispatchTrace trace) {
        // the task id for the log lines of both calls: the plain threads do not carry the request's log context
        Object taskId = org.jboss.logging.MDC.get(TaskLogContext.KEY);
        Executor tagged = work -> threads.execute(() -> {
            try (var tag = TaskLogContext.tag(taskId == null ? null : taskId.toString())) {
                work.run();
            }
        });
        CompletionService<CallEnd<T>> race = new ExecutorCompletionService<>(
                io.opentelemetry.context.Context.taskWrapping(tagged));
        AtomicBoolean primaryCancelled = new AtomicBoolean();
        // children of the dispatch's context (not forks): a caller that goes away, or CancelCalls on a keyed call,
        // cancels both calls; each can also be cancelled alone when the other wins
        Context.CancellableContext primaryContext = Context.current().withCancellation();
        Future<CallEnd<T>> first = race.submit(() -> primaryContext.call(() -> invoke(primary, attemptNumber, false,
                primaryCancelled, deadline, spec, cascadeLevel, attempts, trace)));
        try {
            Future<CallEnd<T>> done = race.poll(delayNanos, TimeUnit.NANOSECONDS);
            if (done != null) {
                return done.get();
            }
            Backend second = null;
            while (next[0] < candidates.size() && second == null) {
                Backend b = candidates.get(next[0]++).backend();
                if (pools.rateLimitedForNanos(b) == 0 && pools.tryAcquire(b.pool())) {
                    second = b;
                }
            }
            if (second == null) {
                return first.get();
            }
            Backend hedge = second;
            trace.add("hedging: " + primary.key() + " slower than " + delayNanos / 1_000_000 + " ms, also calling "
                    + hedge.key());
            AtomicBoolean hedgeCancelled = new AtomicBoolean();
            Context.CancellableContext hedgeContext = Context.current().withCancellation();
            int hedgeAttempt = attemptNumbers.incrementAndGet();
            Future<CallEnd<T>> secondFuture = race.submit(() -> hedgeContext.call(() -> invoke(hedge, hedgeAttempt,
                    true, hedgeCancelled, deadline, spec, cascadeLevel, attempts, trace)));
            CallEnd<T> winner = null;
            CallEnd<T> fatal = null;
            for (int finished = 0; finished < 2 && winner == null; finished++) {
                CallEnd<T> end = race.take().get();
                if (end.succeeded()) {
                    winner = end;
                } else if (end.fatal() != null) {
                    fatal = end;
                }
            }
            if (winner != null) {
                boolean primaryWon = winner.backend() == primary;
                (primaryWon ? hedgeCancelled : primaryCancelled).set(true);
                (primaryWon ? hedgeContext : primaryContext).cancel(null);
                Future<CallEnd<T>> loser = primaryWon ? secondFuture : first;
                try {
                    loser.get(2, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    LOG.debugf("hedged call on %s still finishing", (primaryWon ? hedge : primary).key());
                }
                registry.counter("tandem.router.hedges", "worker_type", spec.workerType(), "winner",
                        primaryWon ? "primary" : "hedge").increment();
                return winner;
            }
            return fatal != null ? fatal : new CallEnd<>(null, primary, -1, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            primaryContext.cancel(e);
            throw Status.CANCELLED.withDescription("dispatch interrupted").asRuntimeException();
        } catch (ExecutionException e) {
            throw new IllegalStateException("hedged call failed unexpectedly", e.getCause());
        }
    }

    /** How long to wait before hedging this call; 0 when it is not hedged. */
    private <T> long hedgeDelayNanos(Backend backend, Spec<T> spec) {
        if (spec.latencyTargetMs() <= 0) {
            return 0;
        }
        List<ModelTier> tiers = config.hedging().tiers().orElse(List.of());
        if (!tiers.contains(backend.model().tier())) {
            return 0;
        }
        BackendProfiles.Profile profile = profiles.existing(backend);
        double p95 = profile == null ? 0 : profile.p95Millis();
        long delay = p95 > 0 ? (long) (p95 * 1_000_000) : config.hedging().defaultDelay().toNanos();
        delay = Math.max(delay, config.hedging().minDelay().toNanos());
        return Math.min(delay, (long) (spec.latencyTargetMs() * 1_000_000));
    }

    /** The worker's RetryInfo delay (capped), else the default cooldown. */
    long cooldownNanos(StatusRuntimeException e) {
        Duration max = config.rateLimit().maxCooldown();
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status != null) {
            for (Any detail : status.getDetailsList()) {
                if (detail.is(RetryInfo.class)) {
                    try {
                        com.google.protobuf.Duration d = detail.unpack(RetryInfo.class).getRetryDelay();
                        long nanos = d.getSeconds() * 1_000_000_000L + d.getNanos();
                        if (nanos > 0) {
                            return Math.min(nanos, max.toNanos());
                        }
                    } catch (InvalidProtocolBufferException ignored) {
                        // a malformed detail falls back to the default cooldown
                    }
                }
            }
        }
        return config.rateLimit().defaultCooldown().toNanos();
    }

    private static Attempt.Builder attempt(Backend backend, AttemptOutcome outcome, String error, double latencyMs,
                                           int cascadeLevel) {
        return Attempt.newBuilder().setModelId(backend.model().id()).setPoolId(backend.pool().id())
                .setTier(backend.model().tier().toProto()).setOutcome(outcome).setError(error == null ? "" : error)
                .setLatencyMs(latencyMs).setCascadeLevel(cascadeLevel);
    }

    private void count(String name, Backend backend) {
        Counter.builder(name).tags("model", backend.model().id(), "pool", backend.pool().id()).register(registry)
                .increment();
    }

    static double sumCost(List<Attempt> attempts) {
        double sum = 0;
        synchronized (attempts) {
            for (Attempt a : attempts) {
                sum += a.getCostUsd();
            }
        }
        return sum;
    }

    private static <T> RoutingFailedException deadlinePassed(Spec<T> spec, List<Attempt> attempts) {
        return new RoutingFailedException(RoutingFailedException.Kind.DEADLINE_EXCEEDED,
                spec.what() + " deadline passed after " + attempts.size() + " attempts: " + summary(attempts));
    }

    private <T> RoutingFailedException exhausted(Spec<T> spec, List<Attempt> attempts) {
        Set<AttemptOutcome> outcomes = new HashSet<>();
        long soonest = 0;
        synchronized (attempts) {
            for (Attempt a : attempts) {
                outcomes.add(a.getOutcome());
            }
        }
        if (outcomes.equals(Set.of(AttemptOutcome.ATTEMPT_OUTCOME_POOL_FULL))) {
            return new RoutingFailedException(RoutingFailedException.Kind.POOLS_FULL,
                    spec.what() + ": every qualifying pool is full: " + summary(attempts),
                    config.loadShedding().retryAfter().toNanos());
        }
        if (!outcomes.isEmpty() && Set.of(AttemptOutcome.ATTEMPT_OUTCOME_POOL_FULL,
                AttemptOutcome.ATTEMPT_OUTCOME_RATE_LIMITED).containsAll(outcomes)) {
            soonest = config.rateLimit().defaultCooldown().toNanos();
            return new RoutingFailedException(RoutingFailedException.Kind.RATE_LIMITED,
                    spec.what() + ": every qualifying backend is rate limited or full: " + summary(attempts), soonest);
        }
        if (attempts.isEmpty()) {
            return new RoutingFailedException(RoutingFailedException.Kind.BACKENDS_FAILED,
                    spec.what() + ": no candidate to call");
        }
        return new RoutingFailedException(RoutingFailedException.Kind.BACKENDS_FAILED,
                spec.what() + " failed on every candidate tried (" + attempts.size() + " attempts): "
                        + summary(attempts));
    }

    static String summary(List<Attempt> attempts) {
        StringBuilder sb = new StringBuilder();
        synchronized (attempts) {
            for (Attempt a : attempts) {
                if (!sb.isEmpty()) {
                    sb.append("; ");
                }
                sb.append(a.getModelId()).append('@').append(a.getPoolId()).append(": ").append(a.getError());
            }
        }
        return sb.toString();
    }
}
