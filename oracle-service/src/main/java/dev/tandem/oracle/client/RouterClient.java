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
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.faulttolerance.api.CircuitBreakerName;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Retry;

/**
 * The router, over gRPC. Dispatch and Review are not retried here: the router already fails over between
 * backends, and the task runner escalates a failed dispatch once. Reads are idempotent and retried. A keyed call
 * (a submitted task's) and {@code CancelCalls} carry the task's {@link TaskAffinity} header, so that with task
 * affinity on ({@link RouterTaskAffinity}) a task's calls, their repeats after a restart and its cancellation reach
 * the router replica that holds its calls; unkeyed calls spread over the replicas.
 */
@ApplicationScoped
public class RouterClient {

    private static final Logger LOG = Logger.getLogger(RouterClient.class);

    private final RouterServiceGrpc.RouterServiceBlockingStub router;

    /** The same client's channel, for the one call made without waiting (an async stub is not injectable). */
    private final Channel routerChannel;

    private final OracleConfig config;

    public RouterClient(@GrpcClient("router") RouterServiceGrpc.RouterServiceBlockingStub router,
            @GrpcClient("router") Channel routerChannel, OracleConfig config) {
        this.router = router;
        this.routerChannel = routerChannel;
        this.config = config;
    }

    // Refusals (load shedding, bad requests) and the caller's own expired deadline do not count toward opening.
    @CircuitBreaker(requestVolumeThreshold = 20, failureRatio = 0.8, delay = 5000, failOn = StatusRuntimeException.class,
            skipOn = RefusedCallException.class)
    @CircuitBreakerName("router-dispatch")
    public DispatchResponse dispatch(DispatchRequest request, Deadline deadline) {
        try {
            return stub(deadline, request.getTenant(), request.getTaskId(), request.getIdempotencyKey())
                    .dispatch(request);
        } catch (StatusRuntimeException e) {
            throw RefusedCallException.classify(e, deadline);
        }
    }

    @CircuitBreaker(requestVolumeThreshold = 20, failureRatio = 0.8, delay = 5000, failOn = StatusRuntimeException.class,
            skipOn = RefusedCallException.class)
    @CircuitBreakerName("router-review")
    public ReviewResponse review(ReviewRequest request, Deadline deadline) {
        try {
            return stub(deadline, request.getTenant(), request.getTaskId(), request.getIdempotencyKey())
                    .review(request);
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
