package dev.tandem.oracle;

import dev.tandem.fakes.FakeAuditState;
import dev.tandem.fakes.FakeRouterState;
import dev.tandem.oracle.repository.PendingAuditRepository;
import dev.tandem.oracle.service.AuditGateway;
import dev.tandem.oracle.service.RouterCatalog;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import io.quarkus.grpc.GrpcClient;
import io.restassured.RestAssured;
import io.smallrye.faulttolerance.api.CircuitBreakerMaintenance;
import jakarta.inject.Inject;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Shared wiring of the @QuarkusTest classes: the oracle's own gRPC API, the fakes' controls, clean state. */
public abstract class OracleTestBase {

    @GrpcClient("oracle")
    OracleServiceGrpc.OracleServiceBlockingStub oracleClient;

    @Inject
    FakeRouterState router;

    @Inject
    FakeAuditState audit;

    @Inject
    RouterCatalog catalog;

    @Inject
    AuditGateway auditGateway;

    @Inject
    PendingAuditRepository pending;

    @Inject
    CircuitBreakerMaintenance breakers;

    @BeforeEach
    void cleanState() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
        router.reset();
        audit.reset();
        catalog.invalidate();
        breakers.resetAll();
        auditGateway.reconcile(); // deliver anything an earlier test left pending
        audit.calls.clear();
    }

    protected OracleServiceGrpc.OracleServiceBlockingStub oracle() {
        return oracleClient.withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** Retries an assertion about background work until it holds, for up to ten seconds. */
    protected static void eventually(Runnable assertion) {
        Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .untilAsserted(assertion::run);
    }

    protected static String ticket() {
        try {
            return Files.readString(Path.of("..", "docs", "samples", "support-ticket.txt"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    protected static ExecuteRequest triage() {
        return ExecuteRequest.newBuilder().setTask("Triage this customer support ticket")
                .putInputs("document", ticket()).build();
    }
}
