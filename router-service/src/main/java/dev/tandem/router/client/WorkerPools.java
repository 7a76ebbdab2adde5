package dev.tandem.router.client;

import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import dev.tandem.grpc.RingHash;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.config.RouterConfig;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.faulttolerance.api.CircuitBreakerState;
import io.smallrye.faulttolerance.api.Guard;
import org.jboss.logging.Logger;

/**
 * The worker pools and backends as the router reaches them.
 * <ul>
 *   <li>Per pool: one gRPC channel (a consistent hash of the call key over every address the target resolves to,
 *       so a headless Kubernetes Service spreads load over its pods and a keyed call's repeat reaches the pod that
 *       holds it: {@link #RING_HASH}) and a bulkhead, an in-flight counter against the declared
 *       capacity. The counter is hand-written rather than a SmallRye bulkhead because selection reads the load of
 *       every pool on every decision and sheds instead of queueing.</li>
 *   <li>Per backend (model@pool): a SmallRye {@link Guard} named {@code worker-backend-<model>@<pool>} with a
 *       circuit breaker and retries with jitter on transient errors, and the rate-limit cooldown a worker asked
 *       for with a {@code google.rpc.RetryInfo}.</li>
 * </ul>
 * Longer than most classes on purpose: a pool's channel and bulkhead and its backends' guards are created,
 * looked up and closed together as the catalog changes, so they live in one registry.
 */
@ApplicationScoped
public class WorkerPools {

    private static final Logger LOG = Logger.getLogger(WorkerPools.class);

    /** Live state of one pool. */
    static final class PoolState {
        final String poolId;
        final AtomicInteger inFlight = new AtomicInteger();
        final PoolLoad load = new PoolLoad(inFlight);
        volatile ManagedChannel channel;
        volatile String endpoint;

        PoolState(String poolId) {
            this.poolId = poolId;
        }
    }

    /** Live state of one backend; its guard is built on the first call. */
    public static final class BackendState {
        final String key;
        volatile Guard guard;
        volatile CircuitBreakerState circuit = CircuitBreakerState.CLOSED;
        volatile long openedAtNanos;
        volatile long rateLimitedUntilNanos;

        BackendState(String key) {
            this.key = key;
        }
    }

    /** Live state of one pool as selection reads it. */
    public static final class PoolLoad {
        final AtomicInteger inFlight;

        PoolLoad(AtomicInteger inFlight) {
            this.inFlight = inFlight;
        }

        public int inFlight() {
            return inFlight.get();
        }
    }

    /**
     * The header a keyed worker call carries its key in ({@code dispatch.WorkerCallKeys}): the pool's channel picks
     * the worker replica by its hash.
     */
    public static final Metadata.Key<String> CALL_KEY_HEADER = Metadata.Key.of("tandem-call-key",
            Metadata.ASCII_STRING_MARSHALLER);

    /**
     * A pool's channel balances with grpc-java's ring_hash policy hashing the call key header ({@link RingHash}): a
     * keyed call and its repeat from a restarted or another router replica reach the same worker replica, which holds
     * the call in flight or its answer; a call without the header gets a random hash, so unkeyed calls spread over
     * the replicas. When pods come and go, only the keys of the ring's changed part move.
     */
    private static final Map<String, ?> RING_HASH = RingHash.serviceConfig(CALL_KEY_HEADER.name());

    private final Map<String, PoolState> pools = new ConcurrentHashMap<>();
    private final Map<String, BackendState> backends = new ConcurrentHashMap<>();
    private final CatalogHolder catalogs;
    private final MeterRegistry registry;
    private final RouterConfig.CircuitBreaker breaker;
    private final RouterConfig.Retry retry;
    private final long openDelayNanos;
    /** Null only where the class is used outside CDI (benchmarks). */
    private final TraceContextPropagation traceContext;
    /**
     * Monotonic time of the rate-limit cooldowns and of the circuit's open delay as selection sees it; tests move
     * it instead of sleeping, so a loaded machine cannot make a short delay pass before it is observed.
     */
    private volatile LongSupplier nanoTime = System::nanoTime;

    @Inject
    public WorkerPools(CatalogHolder catalogs, MeterRegistry registry, RouterConfig config,
            TraceContextPropagation traceContext) {
        this.catalogs = catalogs;
        this.registry = registry;
        this.breaker = config.circuitBreaker();
        this.retry = config.retry();
        this.openDelayNanos = breaker.delay().toNanos();
        this.traceContext = traceContext;
    }

    /** For use outside CDI (benchmarks): no trace context on pool calls. */
    public WorkerPools(CatalogHolder catalogs, MeterRegistry registry, RouterConfig config) {
        this(catalogs, registry, config, null);
    }

    /** Replaces the clock of cooldowns and open delays (tests); {@code System::nanoTime} restores it. */
    public void useClock(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    void onStart(@Observes StartupEvent event) {
        for (Backend backend : catalogs.current().backendList()) {
            state(backend);
            pool(backend.pool());
        }
    }

    /**
     * True for the failures after which the router tries the next candidate: the backend is unwell, slow or rate
     * limited. INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, UNAUTHENTICATED, PERMISSION_DENIED and the other
     * codes say the request itself is wrong, or the caller gave up: another backend would say the same.
     */
    public static boolean isBackendFailure(Status.Code code) {
        return switch (code) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN, ABORTED -> true;
            default -> false;
        };
    }

    /** Transient failures worth retrying on the same backend after a short jittered delay. */
    public static boolean isTransient(Throwable t) {
        return t instanceof StatusRuntimeException sre
                && (sre.getStatus().getCode() == Status.Code.UNAVAILABLE
                || sre.getStatus().getCode() == Status.Code.ABORTED);
    }

    /**
     * What the circuit breaker counts as a failure: backend failures except rate limits (a rate-limited backend is
     * healthy, it is kept out by its cooldown instead) and except cancellations (a hedge that lost the race).
     */
    static boolean countsAsFailure(Throwable t) {
        if (!(t instanceof StatusRuntimeException sre)) {
            return true;
        }
        Status.Code code = sre.getStatus().getCode();
        return code != Status.Code.RESOURCE_EXHAUSTED && isBackendFailure(code);
    }

    public int inFlight(WorkerPool pool) {
        PoolState s = pools.get(pool.id());
        return s == null ? 0 : s.inFlight.get();
    }

    /** Open and not yet due for a trial call; an open circuit past its delay lets the next call probe it. */
    public boolean circuitOpen(Backend backend) {
        return circuitOpen(backends.get(backend.key()));
    }

    public boolean circuitOpen(BackendState s) {
        return s != null && s.circuit == CircuitBreakerState.OPEN
                && nanoTime.getAsLong() - s.openedAtNanos < openDelayNanos;
    }

    /** The backend's live state record (created when missing), for readers that cache it. */
    public BackendState backendState(Backend backend) {
        return state(backend);
    }

    /** The pool's load record (created when missing), for readers that cache it. */
    public PoolLoad poolLoad(WorkerPool pool) {
        return pool(pool).load;
    }

    /** Nanoseconds until the backend may be called again after a rate limit, 0 when it is not rate limited. */
    public long rateLimitedForNanos(BackendState s) {
        long until = s.rateLimitedUntilNanos;
        return until == 0 ? 0 : Math.max(0, until - nanoTime.getAsLong());
    }

    /** Circuit state as shown to operators: "closed", "open" or "half-open". */
    public String circuitLabel(Backend backend) {
        BackendState s = backends.get(backend.key());
        if (s == null || s.circuit == CircuitBreakerState.CLOSED) {
            return "closed";
        }
        return s.circuit == CircuitBreakerState.HALF_OPEN || !circuitOpen(backend) ? "half-open" : "open";
    }

    /** A pool's circuit: "open" when every backend of it is open, "half-open" when some are, else "closed". */
    public String circuitLabel(WorkerPool pool) {
        int total = 0;
        int open = 0;
        int notClosed = 0;
        for (Backend b : catalogs.current().backendList()) {
            if (!b.pool().id().equals(pool.id())) {
                continue;
            }
            total++;
            String label = circuitLabel(b);
            open += label.equals("open") ? 1 : 0;
            notClosed += label.equals("closed") ? 0 : 1;
        }
        return total > 0 && open == total ? "open" : notClosed > 0 ? "half-open" : "closed";
    }

    /** Nanoseconds until a rate-limited backend may be called again, 0 when it is not rate limited. */
    public long rateLimitedForNanos(Backend backend) {
        BackendState s = backends.get(backend.key());
        if (s == null || s.rateLimitedUntilNanos == 0) {
            return 0;
        }
        return Math.max(0, s.rateLimitedUntilNanos - nanoTime.getAsLong());
    }

    /** Keeps a backend out of selection for the given time (a worker's RetryInfo, or the default cooldown). */
    public void rateLimit(Backend backend, long nanos) {
        BackendState s = state(backend);
        s.rateLimitedUntilNanos = nanoTime.getAsLong() + Math.max(1, nanos);
        LOG.infof("backend %s rate limited: out of selection for %d ms", backend.key(), nanos / 1_000_000);
    }

    /** Takes a slot of the pool's bulkhead; false when the pool is at capacity. */
    public boolean tryAcquire(WorkerPool pool) {
        AtomicInteger inFlight = pool(pool).inFlight;
        if (inFlight.incrementAndGet() > pool.capacity()) {
            inFlight.decrementAndGet();
            return false;
        }
        return true;
    }

    public void release(WorkerPool pool) {
        pool(pool).inFlight.decrementAndGet();
    }

    /**
     * Calls a backend through its guard: transient errors are retried after a jittered delay, then the circuit
     * breaker counts the outcome. {@code call} runs once per try.
     *
     * @throws StatusRuntimeException from the worker
     * @throws org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException when the circuit is open
     */
    public <T> T call(Backend backend, Callable<T> call, Class<T> type) throws Exception {
        BackendState s = state(backend);
        Guard guard = s.guard;
        if (guard == null) {
            synchronized (s) {
                if (s.guard == null) {
                    s.guard = guard(s);
                }
                guard = s.guard;
            }
        }
        return guard.call(call, type);
    }

    /** A stub on the pool's channel. */
    public WorkerServiceGrpc.WorkerServiceBlockingStub stub(WorkerPool pool) {
        return WorkerServiceGrpc.newBlockingStub(channel(pool(pool), pool));
    }

    private PoolState pool(WorkerPool pool) {
        PoolState s = pools.get(pool.id());
        return s != null ? s : pools.computeIfAbsent(pool.id(), id -> createPool(pool));
    }

    private BackendState state(Backend backend) {
        BackendState s = backends.get(backend.key());
        return s != null ? s : backends.computeIfAbsent(backend.key(), k -> createBackend(backend));
    }

    private PoolState createPool(WorkerPool pool) {
        PoolState s = new PoolState(pool.id());
        Gauge.builder("tandem.router.pool.in.flight", s.inFlight, AtomicInteger::get)
                .description("Requests in flight on a worker pool").tag("pool", pool.id()).register(registry);
        Gauge.builder("tandem.router.pool.capacity", catalogs, c -> c.current().pool(pool.id())
                        .map(WorkerPool::capacity).orElse(0))
                .description("Declared concurrency of a worker pool").tag("pool", pool.id()).register(registry);
        Gauge.builder("tandem.router.pool.circuit.open", this, w -> w.catalogs.current().pool(pool.id())
                        .map(p -> w.circuitLabel(p).equals("open") ? 1 : 0).orElse(0))
                .description("1 while the circuits of every backend of the pool are open").tag("pool", pool.id())
                .register(registry);
        return s;
    }

    private Guard guard(BackendState s) {
        String name = "worker-backend-" + s.key;
        return Guard.create()
                .withDescription(name)
                .withRetry()
                .maxRetries(retry.maxRetries())
                .delay(retry.delay().toMillis(), ChronoUnit.MILLIS)
                .jitter(retry.jitter().toMillis(), ChronoUnit.MILLIS)
                .whenException(WorkerPools::isTransient)
                .done()
                .withCircuitBreaker()
                .name(name)
                .requestVolumeThreshold(breaker.requestVolumeThreshold())
                .failureRatio(breaker.failureRatio())
                .delay(breaker.delay().toMillis(), ChronoUnit.MILLIS)
                .successThreshold(breaker.successThreshold())
                .when(WorkerPools::countsAsFailure)
                .onStateChange(state -> onCircuitChange(s, state))
                .done()
                .build();
    }

    private BackendState createBackend(Backend backend) {
        BackendState s = new BackendState(backend.key());
        String model = backend.model().id();
        String pool = backend.pool().id();
        Gauge.builder("tandem.router.backend.circuit.open", s, st -> st.circuit == CircuitBreakerState.OPEN ? 1 : 0)
                .description("1 while the backend's circuit breaker is open").tags("model", model, "pool", pool)
                .register(registry);
        Gauge.builder("tandem.router.backend.rate.limited", s, st -> rateLimitedForNanos(st) > 0 ? 1 : 0)
                .description("1 while the backend is kept out of selection for a rate limit")
                .tags("model", model, "pool", pool).register(registry);
        return s;
    }

    private void onCircuitChange(BackendState s, CircuitBreakerState state) {
        if (state == CircuitBreakerState.OPEN) {
            s.openedAtNanos = nanoTime.getAsLong();
        }
        s.circuit = state;
        LOG.infof("circuit of backend %s is now %s", s.key, state);
    }

    private ManagedChannel channel(PoolState s, WorkerPool pool) {
        ManagedChannel channel = s.channel;
        if (channel != null && pool.endpoint().equals(s.endpoint)) {
            return channel;
        }
        synchronized (s) {
            if (s.channel != null && pool.endpoint().equals(s.endpoint)) {
                return s.channel;
            }
            ManagedChannel old = s.channel;
            // batch-class steps hold a call open for hours: HTTP/2 pings keep an idle proxy from dropping it (every
            // 5 min, the shortest interval a gRPC server permits by default)
            ManagedChannelBuilder<?> builder = ManagedChannelBuilder.forTarget(pool.endpoint())
                    .defaultServiceConfig(RING_HASH).keepAliveTime(5, TimeUnit.MINUTES)
                    .keepAliveTimeout(20, TimeUnit.SECONDS);
            if (traceContext != null) { // null only where the class is used outside CDI (benchmarks)
                builder.intercept(traceContext);
            }
            if (pool.plaintext()) {
                builder.usePlaintext();
            } else {
                builder.useTransportSecurity();
            }
            s.channel = builder.build();
            s.endpoint = pool.endpoint();
            LOG.infof("channel to worker pool %s at %s", pool.id(), pool.endpoint());
            if (old != null) {
                old.shutdown();
            }
            return s.channel;
        }
    }

    @PreDestroy
    void shutdown() {
        for (PoolState s : pools.values()) {
            ManagedChannel channel = s.channel;
            if (channel != null) {
                channel.shutdown();
                try {
                    if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
                        channel.shutdownNow();
                    }
                } catch (InterruptedException e) {
                    channel.shutdownNow();
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
