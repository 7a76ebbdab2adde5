package dev.tandem.oracle.fakes;

import dev.tandem.fakes.FakeAudit;
import dev.tandem.fakes.FakeAuditState;
import io.quarkus.grpc.GrpcService;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/** The shared fake audit service (test-fakes), served by the test application: the oracle's audit client reaches it. */
@GrpcService
public class FakeAuditService extends FakeAudit {

    @Inject
    public FakeAuditService(FakeAuditState state) {
        super(state);
    }

    /** What the tests script the fake with; a singleton, not a client proxy, so its fields are read directly. */
    @Produces
    @Singleton
    static FakeAuditState state() {
        return new FakeAuditState();
    }
}
