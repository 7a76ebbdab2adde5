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
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.faulttolerance.api.CircuitBreakerName;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Retry;

/**
 * The audit service, over gRPC. Both calls are idempotent on decision_id, so retrying them is safe; when they
 * still fail the caller falls back to its fail-safe (a blocking review) and queues the record for later. A refusal
 * ({@link RefusedCallException}: bad input, load shedding, a cancelled task, the caller's own expired deadline) is
 * neither retried nor counted against the audit service's health.
 */
@ApplicationScoped
public class AuditClient {

    private final AuditServiceGrpc.AuditServiceBlockingStub audit;
    private final OracleConfig config;

    public AuditClient(@GrpcClient("audit") AuditServiceGrpc.AuditServiceBlockingStub audit, OracleConfig config) {
        this.audit = audit;
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
}
