package dev.tandem.router.client;

import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.proto.audit.v1.AuditServiceGrpc;
import dev.tandem.proto.audit.v1.ListStreamsRequest;
import dev.tandem.proto.audit.v1.ListStreamsResponse;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.faulttolerance.api.CircuitBreakerName;
import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;

/** Reads the audit service's trust streams, whose review counts feed the router's quality board. */
@ApplicationScoped
public class AuditStreamsClient {

    private final AuditServiceGrpc.AuditServiceBlockingStub audit;

    public AuditStreamsClient(@GrpcClient("audit") AuditServiceGrpc.AuditServiceBlockingStub audit) {
        this.audit = audit;
    }

    @Timeout(value = 5, unit = ChronoUnit.SECONDS)
    @Retry(maxRetries = 1, delay = 200, jitter = 100)
    @CircuitBreaker(requestVolumeThreshold = 4, failureRatio = 0.75, delay = 30, delayUnit = ChronoUnit.SECONDS)
    @CircuitBreakerName("audit-list-streams")
    public ListStreamsResponse listStreams() {
        return audit.withDeadlineAfter(5, TimeUnit.SECONDS).listStreams(ListStreamsRequest.getDefaultInstance());
    }
}
