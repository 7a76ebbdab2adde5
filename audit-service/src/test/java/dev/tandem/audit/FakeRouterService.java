package dev.tandem.audit;

import dev.tandem.fakes.FakeRouter;
import dev.tandem.fakes.FakeRouterState;
import io.quarkus.grpc.GrpcService;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/**
 * The shared fake router (test-fakes), served by the application under test, which the audit service's
 * unconfigured "router" client reaches in test mode: records every Review request and answers as the test says
 * ({@link FakeRouterState#reviewAnswer}; unless a test sets another, {@link FakeRouter#acceptUnlessWrong}).
 */
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
        var state = new FakeRouterState();
        state.reviewAnswer = FakeRouter::acceptUnlessWrong;
        return state;
    }
}
