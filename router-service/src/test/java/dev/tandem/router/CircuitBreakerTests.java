package dev.tandem.router;

import static dev.tandem.router.TestSupport.step;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;

import dev.tandem.proto.router.v1.BackendEntry;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.GetCatalogRequest;
import dev.tandem.proto.router.v1.RouteRequest;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** A backend's circuit: closed, open after failures, half-open after its delay, closed again after a good probe. */
@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
@TestProfile(CircuitBreakerTests.ShortDelay.class)
class CircuitBreakerTests {

    /**
     * A breaker delay short enough to wait out, long enough that a loaded machine still sees the circuit open: the
     * breaker turns half-open on its own real-time timer, which no test clock can hold.
     */
    public static class ShortDelay implements QuarkusTestProfile {
        static final Duration DELAY = Duration.ofSeconds(10);

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("tandem.router.circuit-breaker.delay", DELAY.toMillis() + "ms");
        }
    }

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    @ConfigProperty(name = "test.local-endpoint")
    String localEndpoint;

    private String circuit() {
        return router.getCatalog(GetCatalogRequest.getDefaultInstance()).getBackendsList().stream()
                .filter(b -> b.getModelId().equals("hb-switch")).findFirst().map(BackendEntry::getCircuit)
                .orElseThrow();
    }

    private String chosen() {
        return router.route(RouteRequest.newBuilder().setWorkerType("breaker-test").build()).getDecision()
                .getModelId();
    }

    @Test
    void opensOnFailuresRecoversThroughHalfOpenAndClosesOnASuccessfulProbe() throws Exception {
        assertThat(circuit()).isEqualTo("closed");
        long beforeOpening = System.nanoTime();
        TestSupport.control(localEndpoint, "fake-control", "fail", "true");
        try {
            // two dispatches, each a call and a retry on hb-switch: 4 failures open the circuit
            for (int i = 0; i < 2; i++) {
                assertThat(router.dispatch(step("breaker-test").build()).getResult().getModelId())
                        .isEqualTo("hb-steady");
            }
            assertThat(circuit()).isEqualTo("open");
            assertThat(chosen()).isEqualTo("hb-steady");
        } finally {
            TestSupport.control(localEndpoint, "fake-control", "fail", "false");
        }

        // half-open once the delay has passed: waited for (bounded at 12 delays, far beyond any load), and never
        // sooner, measured from before the failures began so that a slow machine only adds to the time
        while (!circuit().equals("half-open")) {
            assertThat(System.nanoTime() - beforeOpening).as("the circuit turns half-open after its delay")
                    .isLessThan(ShortDelay.DELAY.multipliedBy(12).toNanos());
            Thread.sleep(100);
        }
        assertThat(System.nanoTime() - beforeOpening).as("not before its delay")
                .isGreaterThanOrEqualTo(ShortDelay.DELAY.toNanos());
        assertThat(chosen()).isEqualTo("hb-switch");

        DispatchResponse probe = router.dispatch(step("breaker-test").build());
        assertThat(probe.getResult().getModelId()).isEqualTo("hb-switch");
        assertThat(circuit()).isEqualTo("closed");
    }
}
