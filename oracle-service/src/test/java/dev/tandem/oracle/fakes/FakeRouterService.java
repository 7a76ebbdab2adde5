package dev.tandem.oracle.fakes;

import dev.tandem.fakes.FakeRouter;
import dev.tandem.fakes.FakeRouterState;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/** The shared fake router (test-fakes), served by the test application: the oracle's router client reaches it. */
@GrpcService
public class FakeRouterService extends FakeRouter {

    @Inject
    public FakeRouterService(FakeRouterState state) {
        super(state);
    }

    /** What the tests script the fake with; a singleton, not a client proxy, so its fields are read directly. */
    @Produces
    @Singleton
    static FakeRouterState state() {
        return new FakeRouterState();
    }

    // Blocking here, where Quarkus sees it (it does not index test-fakes): a dispatch waits while a test holds it,
    // and dispatches must overlap, so they cannot run on the event loop.
    @Override
    @Blocking
    public void dispatch(DispatchRequest request, StreamObserver<DispatchResponse> responses) {
        super.dispatch(request, responses);
    }

    @Override
    @Blocking
    public void review(ReviewRequest request, StreamObserver<ReviewResponse> responses) {
        super.review(request, responses);
    }
}
