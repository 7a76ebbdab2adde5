package dev.tandem.audit.client;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.grpc.GrpcClient;

import dev.tandem.grpc.TaskAffinity;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;

/**
 * RouterService.Review for the shadow reviewer: the router routes the review to an oracle-tier model. The client
 * is named {@code router} ({@code quarkus.grpc.clients.router.host/port}).
 */
@ApplicationScoped
public class RouterReviewClient {

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    /**
     * A keyed review carries its task's {@link TaskAffinity} header (its key where it has no task), so its repeat
     * reaches the router replica whose call it joins; an unkeyed one goes to any replica.
     */
    public ReviewResponse review(ReviewRequest request, Duration timeout) {
        var stub = router;
        if (!request.getIdempotencyKey().isEmpty()) {
            stub = TaskAffinity.pinned(stub, request.getTenant(),
                    request.getTaskId().isEmpty() ? request.getIdempotencyKey() : request.getTaskId());
        }
        return stub.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).review(request);
    }
}
