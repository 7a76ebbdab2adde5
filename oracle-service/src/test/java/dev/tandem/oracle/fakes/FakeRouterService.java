package dev.tandem.oracle.fakes;

import dev.tandem.fakes.FakeRouter;
import dev.tandem.fakes.FakeRouterState;
import io.quarkus.grpc.GrpcService;
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
}
