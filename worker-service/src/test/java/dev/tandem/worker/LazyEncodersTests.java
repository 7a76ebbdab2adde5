package dev.tandem.worker;

import dev.tandem.models.EmbeddedEncoders;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.tandem.worker.ExecuteStepTests.step;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Embedded encoders load on their model's first step and never before: not at start-up, not for the readiness
 * probe, and not at all for a configured model no step uses. Its own profile gives it a fresh application (and so
 * a fresh set of loaded encoders), whatever other tests ran before in this JVM.
 */
@QuarkusTest
@TestProfile(LazyEncodersTests.FreshApplication.class)
class LazyEncodersTests {

    /** A profile of its own, so the application (and the encoders it loaded) is not shared with other tests. */
    public static class FreshApplication implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("tandem.worker.checkpoint.max-entries", "10");
        }
    }

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    @Test
    void anEncoderLoadsOnItsModelsFirstStepOnly() {
        assertThat(EmbeddedEncoders.loaded()).as("loaded at start-up").isEmpty();

        given().when().get("/q/health/ready").then().statusCode(200);
        assertThat(EmbeddedEncoders.loaded()).as("loaded by the readiness probe").isEmpty();

        worker.executeStep(step("classify", Map.of("text", "I was charged twice, please refund one payment."),
                "embedded-minilm").build());

        assertThat(EmbeddedEncoders.loaded()).as("loaded after a step on embedded-minilm")
                .containsExactly(EmbeddedEncoders.MINILM);
        assertThat(EmbeddedEncoders.isLoaded(EmbeddedEncoders.BGE_SMALL))
                .as("the oracle model's encoder, configured but never used").isFalse();
    }
}
