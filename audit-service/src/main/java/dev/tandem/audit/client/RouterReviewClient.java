package dev.tandem.audit.client;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.grpc.GrpcClient;

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

    public ReviewResponse review(ReviewRequest request, Duration timeout) {
        return router.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).review(request);
    }
}
