package dev.tandem.oracle.client;

import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.audit.v1.AuditServiceGrpc;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.GetPoliciesRequest;
import dev.tandem.proto.audit.v1.GetPoliciesResponse;
import dev.tandem.proto.audit.v1.RecordDecisionsRequest;
import dev.tandem.proto.audit.v1.RecordDecisionsResponse;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.RecordVerdictResponse;
import dev.tandem.proto.audit.v1.WatchPoliciesRequest;
import dev.tandem.proto.audit.v1.WatchPoliciesResponse;
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.smallrye.faulttolerance.api.CircuitBreakerName;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Retry;

import java.util.function.Consumer;

/**
 * The audit service, over gRPC. Both calls are idempotent on decision_id, so retrying them is safe; when they
 * still fail the caller falls back to its fail-safe (a blocking review) and queues the record for later. A refusal
 * ({@link RefusedCallException}: bad input, load shedding, a cancelled task, the caller's own expired deadline) is
 * neither retried nor counted against the audit service's health.
 */
@ApplicationScoped
public class AuditClient {

    private final AuditServiceGrpc.AuditServiceBlockingStub audit;
    // the plain async stub: cancelling a Mutiny stub's Multi leaves its gRPC call open (quarkus-grpc 3.33's
    // ClientCalls.oneToMany does not cancel the call), so a watch given up would live on in the audit service
    private final AuditServiceGrpc.AuditServiceStub watches;
    private final OracleConfig config;

    public AuditClient(@GrpcClient("audit") AuditServiceGrpc.AuditServiceBlockingStub audit,
            @GrpcClient("audit") Channel channel, OracleConfig config) {
        this.audit = audit;
        this.watches = AuditServiceGrpc.newStub(channel);
        this.config = config;
    }

    @Retry(maxRetries = 2, delay = 100, jitter = 50, retryOn = StatusRuntimeException.class,
            abortOn = RefusedCallException.class)
    @CircuitBreaker(requestVolumeThreshold = 20, failureRatio = 0.8, delay = 5000, failOn = StatusRuntimeException.class,
            skipOn = RefusedCallException.class)
    @CircuitBreakerName("audit-decide")
    public DecideResponse decide(DecideRequest request, Deadline deadline) {
        try {
            return Deadlines.apply(audit, deadline, config.downstreamTimeout()).decide(request);
        } catch (StatusRuntimeException e) {
            throw RefusedCallException.classify(e, deadline);
        }
    }

    @Retry(maxRetries = 2, delay = 100, jitter = 50, retryOn = StatusRuntimeException.class,
            abortOn = RefusedCallException.class)
    @CircuitBreaker(requestVolumeThreshold = 20, failureRatio = 0.8, delay = 5000, failOn = StatusRuntimeException.class,
            skipOn = RefusedCallException.class)
    @CircuitBreakerName("audit-verdict")
    public RecordVerdictResponse recordVerdict(RecordVerdictRequest request, Deadline deadline) {
        try {
            return Deadlines.apply(audit, deadline, config.downstreamTimeout()).recordVerdict(request);
        } catch (StatusRuntimeException e) {
            throw RefusedCallException.classify(e, deadline);
        }
    }

    /** A batch of locally taken decisions: idempotent on every decision_id, so the batch is retried whole. */
    @Retry(maxRetries = 2, delay = 100, jitter = 50, retryOn = StatusRuntimeException.class,
            abortOn = RefusedCallException.class)
    @CircuitBreaker(requestVolumeThreshold = 20, failureRatio = 0.8, delay = 5000, failOn = StatusRuntimeException.class,
            skipOn = RefusedCallException.class)
    @CircuitBreakerName("audit-record")
    public RecordDecisionsResponse recordDecisions(RecordDecisionsRequest request, Deadline deadline) {
        try {
            return Deadlines.apply(audit, deadline, config.downstreamTimeout()).recordDecisions(request);
        } catch (StatusRuntimeException e) {
            throw RefusedCallException.classify(e, deadline);
        }
    }

    /** The published stream policies; not retried: the next refresh is the retry. */
    public GetPoliciesResponse getPolicies(Deadline deadline) {
        return Deadlines.apply(audit, deadline, config.downstreamTimeout()).getPolicies(
                GetPoliciesRequest.getDefaultInstance());
    }

    /**
     * Subscribes to the published policies as they change (WatchPolicies): no deadline, no retry, no breaker; the
     * stream lasts as long as the audit service runs, and the caller subscribes again when it ends.
     *
     * @param messages every message, in order
     * @param ended    the stream's end: null when the service completed it, else the failure
     * @return cancels the call (ended is then not told)
     */
    public Runnable watchPolicies(Consumer<WatchPoliciesResponse> messages, Consumer<Throwable> ended) {
        var observer = new ClientResponseObserver<WatchPoliciesRequest, WatchPoliciesResponse>() {
            private volatile ClientCallStreamObserver<WatchPoliciesRequest> call;
            private volatile boolean cancelled;

            @Override
            public void beforeStart(ClientCallStreamObserver<WatchPoliciesRequest> requestStream) {
                call = requestStream;
            }

            @Override
            public void onNext(WatchPoliciesResponse message) {
                messages.accept(message);
            }

            @Override
            public void onError(Throwable t) {
                if (!cancelled) {
                    ended.accept(t);
                }
            }

            @Override
            public void onCompleted() {
                ended.accept(null);
            }

            void cancel() {
                cancelled = true;
                call.cancel("the oracle gave up this watch", null);
            }
        };
        watches.watchPolicies(WatchPoliciesRequest.getDefaultInstance(), observer);
        return observer::cancel;
    }
}
