package dev.tandem.router.client;

import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.service.CatalogHolder;
import dev.tandem.router.service.WorkerPool;
import io.grpc.ManagedChannel;
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
 * The worker pools as the router reaches them: one gRPC channel per pool (round-robin over every address the
 * target resolves to, so a headless Kubernetes Service spreads load over its pods), a bulkhead (in-flight
 * counter against the declared capacity) and a named SmallRye circuit breaker per pool.
 */
@ApplicationScoped
public class WorkerPools {

    private static final Logger LOG = Logger.getLogger(WorkerPools.class);

    /** Live state of one pool. */
    static final class PoolState {
        final String poolId;
        final AtomicInteger inFlight = new AtomicInteger();
        final Guard guard;
        volatile CircuitBreakerState circuit = CircuitBreakerState.CLOSED;
        volatile long openedAtNanos;
        volatile ManagedChannel channel;
        volatile String endpoint;

        PoolState(String poolId, Guard guard) {
            this.poolId = poolId;
            this.guard = guard;
        }
    }

    private final Map<String, PoolState> states = new ConcurrentHashMap<>();
    private final CatalogHolder catalogs;
    private final MeterRegistry registry;
    private final RouterConfig.CircuitBreaker breaker;
    private final long openDelayNanos;

    @Inject
    public WorkerPools(CatalogHolder catalogs, MeterRegistry registry, RouterConfig config) {
        this.catalogs = catalogs;
        this.registry = registry;
        this.breaker = config.circuitBreaker();
        this.openDelayNanos = breaker.delay().toNanos();
    }

    void onStart(@Observes StartupEvent event) {
        for (WorkerPool pool : catalogs.current().pools()) {
            state(pool);
        }
    }

    /** True for the failures that say "this backend is unwell": the router fails over and the breaker counts them. */
    public static boolean isBackendFailure(Status.Code code) {
        return switch (code) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN, ABORTED -> true;
            default -> false;
        };
    }

    private static boolean countsAsFailure(Throwable t) {
        return !(t instanceof StatusRuntimeException sre) || isBackendFailure(sre.getStatus().getCode());
    }

    public int inFlight(WorkerPool pool) {
        PoolState s = states.get(pool.id());
        return s == null ? 0 : s.inFlight.get();
    }

    /** Open and not yet due for a trial call; an open circuit past its delay lets the next call probe it. */
    public boolean circuitOpen(WorkerPool pool) {
        PoolState s = states.get(pool.id());
        return s != null && s.circuit == CircuitBreakerState.OPEN
                && System.nanoTime() - s.openedAtNanos < openDelayNanos;
    }

    /** Circuit state as shown to operators: "closed", "open" or "half-open". */
    public String circuitLabel(WorkerPool pool) {
        PoolState s = states.get(pool.id());
        if (s == null || s.circuit == CircuitBreakerState.CLOSED) {
            return "closed";
        }
        return s.circuit == CircuitBreakerState.HALF_OPEN || !circuitOpen(pool) ? "half-open" : "open";
    }

    /** Takes a slot of the pool's bulkhead; false when the pool is at capacity. */
    public boolean tryAcquire(WorkerPool pool) {
        AtomicInteger inFlight = state(pool).inFlight;
        if (inFlight.incrementAndGet() > pool.capacity()) {
            inFlight.decrementAndGet();
            return false;
        }
        return true;
    }

    public void release(WorkerPool pool) {
        state(pool).inFlight.decrementAndGet();
    }

    /**
     * Calls the pool through its circuit breaker.
     *
     * @throws StatusRuntimeException from the worker
     * @throws org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException when the circuit is open
     */
    public <T> T call(WorkerPool pool, Function<WorkerServiceGrpc.WorkerServiceBlockingStub, T> call, Class<T> type)
            throws Exception {
        PoolState s = state(pool);
        WorkerServiceGrpc.WorkerServiceBlockingStub stub = WorkerServiceGrpc.newBlockingStub(channel(s, pool));
        return s.guard.call(() -> call.apply(stub), type);
    }

    /** A stub for calls outside the breaker (listing worker types). */
    public WorkerServiceGrpc.WorkerServiceBlockingStub stub(WorkerPool pool) {
        return WorkerServiceGrpc.newBlockingStub(channel(state(pool), pool));
    }

    private PoolState state(WorkerPool pool) {
        PoolState s = states.get(pool.id());
        return s != null ? s : states.computeIfAbsent(pool.id(), id -> create(pool));
    }

    private PoolState create(WorkerPool pool) {
        PoolState[] holder = new PoolState[1];
        Guard guard = Guard.create()
                .withDescription("worker-pool-" + pool.id())
                .withCircuitBreaker()
                .name("worker-pool-" + pool.id())
                .requestVolumeThreshold(breaker.requestVolumeThreshold())
                .failureRatio(breaker.failureRatio())
                .delay(breaker.delay().toMillis(), ChronoUnit.MILLIS)
                .successThreshold(breaker.successThreshold())
                .when(WorkerPools::countsAsFailure)
                .onStateChange(state -> onCircuitChange(holder[0], state))
                .done()
                .build();
        PoolState s = new PoolState(pool.id(), guard);
        holder[0] = s;
        Gauge.builder("tandem.router.pool.in.flight", s.inFlight, AtomicInteger::get)
                .description("Requests in flight on a worker pool").tag("pool", pool.id()).register(registry);
        Gauge.builder("tandem.router.pool.capacity", catalogs, c -> c.current().pool(pool.id())
                        .map(WorkerPool::capacity).orElse(0))
                .description("Declared concurrency of a worker pool").tag("pool", pool.id()).register(registry);
        Gauge.builder("tandem.router.pool.circuit.open", s, st -> st.circuit == CircuitBreakerState.OPEN ? 1 : 0)
                .description("1 while the pool's circuit breaker is open").tag("pool", pool.id()).register(registry);
        return s;
    }

    private void onCircuitChange(PoolState s, CircuitBreakerState state) {
        if (state == CircuitBreakerState.OPEN) {
            s.openedAtNanos = System.nanoTime();
        }
        s.circuit = state;
        LOG.infof("circuit of worker pool %s is now %s", s.poolId, state);
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
            ManagedChannelBuilder<?> builder = ManagedChannelBuilder.forTarget(pool.endpoint())
                    .defaultLoadBalancingPolicy("round_robin");
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
        for (PoolState s : states.values()) {
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
