package dev.tandem.oracle.client;

import dev.tandem.grpc.TaskAffinity;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.router.v1.CancelCallsRequest;
import dev.tandem.proto.router.v1.CancelCallsResponse;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.GetCatalogRequest;
import dev.tandem.proto.router.v1.GetCatalogResponse;
import dev.tandem.proto.router.v1.ListWorkerTypesRequest;
import dev.tandem.proto.router.v1.ListWorkerTypesResponse;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.router.v1.SettleStepRequest;
import dev.tandem.proto.router.v1.SettleStepResponse;
import io.grpc.stub.StreamObserver;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.faulttolerance.api.CircuitBreakerName;
import io.smallrye.faulttolerance.api.Guard;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Retry;

/**
 * The router, over gRPC. An unkeyed Dispatch or Review is not retried here: the router already fails over between
 * backends, the task runner escalates a failed dispatch once, and a second send could pay the step twice. A keyed
 * one (a submitted task's, with an idempotency key) is sent again when it fails UNAVAILABLE
 * ({@code router.keyed-call-repeats}): its router replica went away mid-call (a rolling update's cut-off call, a
 * killed pod), and the key makes the repeat the same call, executed and paid once. A call the replica never received
 * (it raced the replica's GOAWAY) is re-sent by the channel itself, keyed or not (grpc-java's transparent retry,
 * {@code quarkus.grpc.clients.router.retry=true}). Reads are idempotent and retried. A keyed call (a submitted
 * task's) and {@code CancelCalls} carry the task's {@link TaskAffinity} header, so that with task affinity on
 * ({@link RouterTaskAffinity}) a task's calls, their repeats after a restart and its cancellation reach the router
 * replica that holds its calls; unkeyed calls spread over the replicas.
 */
@ApplicationScoped
public class RouterClient {

    private static final Logger LOG = Logger.getLogger(RouterClient.class);

    private final RouterServiceGrpc.RouterServiceBlockingStub router;

    /** The same client's channel, for the one call made without waiting (an async stub is not injectable). */
    private final Channel routerChannel;

    private final OracleConfig config;

    /** Sends a keyed call again while it fails UNAVAILABLE; nothing else (unkeyed calls do not pass through it). */
    private final Guard keyedCallRepeats;

    public RouterClient(@GrpcClient("router") RouterServiceGrpc.RouterServiceBlockingStub router,
            @GrpcClient("router") Channel routerChannel, OracleConfig config) {
        this.router = router;
        this.routerChannel = routerChannel;
        this.config = config;
        this.keyedCallRepeats = keyedCallRepeats(config.router());
    }

    private static Guard keyedCallRepeats(OracleConfig.Router config) {
        if (config.keyedCallRepeats() < 0) {
            throw new IllegalArgumentException("tandem.oracle.router.keyed-call-repeats must be 0 or more, was "
                    + config.keyedCallRepeats());
        }
        long delay = config.keyedCallRepeatDelay().toMillis();
        return Guard.create().withDescription("keyed router calls")
                .withRetry().maxRetries(config.keyedCallRepeats())
                .delay(delay, ChronoUnit.MILLIS).jitter(delay / 2, ChronoUnit.MILLIS)
                .whenException(RouterClient::replicaWentAway)
                .onRetry(() -> LOG.debug("keyed router call failed UNAVAILABLE; sending it again"))
                .done().build();
    }

    /**
     * UNAVAILABLE: the router replica could not be reached or went away with the call (its connection closed), or it
     * had no backend left (every backend failed: a repeat routes it once more, under its breakers).
     */
    private static boolean replicaWentAway(Throwable e) {
        return e instanceof StatusRuntimeException sre && sre.getStatus().getCode() == Status.Code.UNAVAILABLE;
    }

    // Refusals (load shedding, bad requests) and the caller's own expired deadline do not count toward opening.
    @CircuitBreaker(requestVolumeThreshold = 20, failureRatio = 0.8, delay = 5000, failOn = StatusRuntimeException.class,
            skipOn = RefusedCallException.class)
    @CircuitBreakerName("router-dispatch")
    public DispatchResponse dispatch(DispatchRequest request, Deadline deadline) {
        try {
            var stub = stub(deadline, request.getTenant(), request.getTaskId(), request.getIdempotencyKey());
            return request.getIdempotencyKey().isEmpty() ? stub.dispatch(request)
                    : keyedCallRepeats.get(() -> stub.dispatch(request), DispatchResponse.class);
        } catch (StatusRuntimeException e) {
            throw RefusedCallException.classify(e, deadline);
        }
    }

    @CircuitBreaker(requestVolumeThreshold = 20, failureRatio = 0.8, delay = 5000, failOn = StatusRuntimeException.class,
            skipOn = RefusedCallException.class)
    @CircuitBreakerName("router-review")
    public ReviewResponse review(ReviewRequest request, Deadline deadline) {
        try {
            var stub = stub(deadline, request.getTenant(), request.getTaskId(), request.getIdempotencyKey());
            return request.getIdempotencyKey().isEmpty() ? stub.review(request)
                    : keyedCallRepeats.get(() -> stub.review(request), ReviewResponse.class);
        } catch (StatusRuntimeException e) {
            throw RefusedCallException.classify(e, deadline);
        }
    }

    @Retry(maxRetries = 2, delay = 100, jitter = 50, retryOn = StatusRuntimeException.class)
    @CircuitBreaker(requestVolumeThreshold = 10, failureRatio = 0.8, delay = 5000, failOn = StatusRuntimeException.class)
    @CircuitBreakerName("router-worker-types")
    public ListWorkerTypesResponse listWorkerTypes(Deadline deadline) {
        return stub(deadline).listWorkerTypes(ListWorkerTypesRequest.getDefaultInstance());
    }

    @Retry(maxRetries = 2, delay = 100, jitter = 50, retryOn = StatusRuntimeException.class)
    @CircuitBreaker(requestVolumeThreshold = 10, failureRatio = 0.8, delay = 5000, failOn = StatusRuntimeException.class)
    @CircuitBreakerName("router-catalog")
    public GetCatalogResponse getCatalog(Deadline deadline) {
        return stub(deadline).getCatalog(GetCatalogRequest.getDefaultInstance());
    }

    /**
     * Tells the router, without waiting, that a step's output was not held for review: the exploration budget
     * releases its hold. Off the step's path on purpose: when it fails, the hold lapses after the router's
     * settle-after, which only delays exploration, never overspends. Sent to the task's router replica (task
     * affinity): for a submitted task that is the replica its keyed Dispatch ran on, which holds the budget; an
     * interactive task's Dispatch went to any replica, as before.
     */
    public void settleStep(SettleStepRequest request) {
        // forked: the task ending, or its client cancelling it, must not cancel a settlement already on its way
        Context.current().fork().run(() -> TaskAffinity.pinned(RouterServiceGrpc.newStub(routerChannel),
                        request.getTenant(), request.getTaskId())
                .withDeadlineAfter(config.downstreamTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .settleStep(request, new StreamObserver<>() {
                    @Override
                    public void onNext(SettleStepResponse value) {
                    }

                    @Override
                    public void onError(Throwable t) {
                        LOG.debugf("router did not settle step %s/%s: %s", request.getTaskId(), request.getStepId(),
                                t.getMessage());
                    }

                    @Override
                    public void onCompleted() {
                    }
                }));
    }

    /**
     * Tells the router, without waiting, to stop the task's keyed calls (they run on when their caller goes away,
     * so that a resumed run collects them; a cancelled task must say so). When it fails the calls run to their
     * deadline and are billed, as an unkeyed call would be.
     */
    public void cancelCalls(String taskId, String tenant) {
        var request = CancelCallsRequest.newBuilder().setTaskId(taskId).setTenant(tenant).build();
        Context.current().fork().run(() -> TaskAffinity.pinned(RouterServiceGrpc.newStub(routerChannel), tenant, taskId)
                .withDeadlineAfter(config.downstreamTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .cancelCalls(request, new StreamObserver<>() {
                    @Override
                    public void onNext(CancelCallsResponse value) {
                        LOG.debugf("router cancelled %d call(s) of task %s", value.getCancelled(), taskId);
                    }

                    @Override
                    public void onError(Throwable t) {
                        LOG.warnf("router did not cancel the calls of task %s: %s", taskId, t.getMessage());
                    }

                    @Override
                    public void onCompleted() {
                    }
                }));
    }

    private RouterServiceGrpc.RouterServiceBlockingStub stub(Deadline deadline) {
        return Deadlines.apply(router, deadline, config.downstreamTimeout());
    }

    /** A keyed call's stub: pinned to its task's router replica; an unkeyed call's goes to any replica. */
    private RouterServiceGrpc.RouterServiceBlockingStub stub(Deadline deadline, String tenant, String taskId,
            String idempotencyKey) {
        var stub = stub(deadline);
        return idempotencyKey.isEmpty() ? stub : TaskAffinity.pinned(stub, tenant, taskId);
    }
}
