package dev.tandem.oracle.security;

import java.util.concurrent.atomic.AtomicInteger;

import com.google.protobuf.Any;
import com.google.protobuf.util.Durations;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import io.grpc.protobuf.StatusProto;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Overload protection for one oracle replica: at most {@code limit} tasks run at once. Past that a task is refused
 * at once with RESOURCE_EXHAUSTED and a short RetryInfo, so an overloaded replica sheds work its clients can retry
 * (or send to another replica) instead of queueing it until the deadlines pass and the heap runs out; a refused
 * task has done nothing, so nothing is half-written. Per-tenant rate limits ({@link ClientAccess}) decide fairness;
 * this decides capacity.
 */
public final class TaskAdmission {

    /** A running task's place, given back when it ends. */
    public interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    private static final long RETRY_MS = 200;

    private final int limit;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Counter rejected;

    public TaskAdmission(int limit, MeterRegistry registry) {
        this.limit = limit;
        this.rejected = registry.counter("tandem.oracle.admission.rejected", "reason", "at_capacity", "tenant", "");
        registry.gauge("tandem.oracle.tasks.in.flight", inFlight);
    }

    /** A place for one task, or RESOURCE_EXHAUSTED when {@code limit} tasks already run. */
    public Permit enter() {
        while (true) {
            int now = inFlight.get();
            if (limit > 0 && now >= limit) {
                rejected.increment();
                throw StatusProto.toStatusRuntimeException(Status.newBuilder()
                        .setCode(Code.RESOURCE_EXHAUSTED_VALUE)
                        .setMessage("this oracle replica is at capacity (" + limit + " tasks running, "
                                + "tandem.oracle.limits.max-tasks-in-flight); retry in " + RETRY_MS + " ms")
                        .addDetails(Any.pack(RetryInfo.newBuilder()
                                .setRetryDelay(Durations.fromMillis(RETRY_MS)).build()))
                        .build());
            }
            if (inFlight.compareAndSet(now, now + 1)) {
                return new Permit() {
                    private boolean closed;

                    @Override
                    public synchronized void close() {
                        if (!closed) {
                            closed = true;
                            inFlight.decrementAndGet();
                        }
                    }
                };
            }
        }
    }

    /** Tasks running now. */
    public int inFlight() {
        return inFlight.get();
    }
}
