package dev.tandem.worker;

import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

@QuarkusTest
class AdminResourceTests {

    @BeforeAll
    static void logFailures() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }

    @Test
    void listsWorkerTypes() {
        given().when().get("/api/worker-types").then().statusCode(200)
                .body("name", hasItems("classify", "extract", "summarize", "validate", "intent"))
                .body("find { it.name == 'classify' }.gates", hasItems("schema", "label-in-taxonomy"))
                .body("find { it.name == 'intent' }.source", org.hamcrest.Matchers.containsString("extra-worker-types"));
    }

    @Test
    void showsOneWorkerTypeWithItsDataAnd404ForAnUnknownOne() {
        given().when().get("/api/worker-types/classify").then().statusCode(200)
                .body("kind", equalTo("classify"))
                .body("classify.taxonomies.support-ticket.labels.billing.exemplars.size()",
                        org.hamcrest.Matchers.greaterThanOrEqualTo(8));
        given().when().get("/api/worker-types/translate").then().statusCode(404);
    }

    @Test
    void listsModelsAndWhetherTheirProviderIsAvailable() {
        given().when().get("/api/models").then().statusCode(200)
                .body("id", hasItems("embedded-minilm", "embedded-bge-oracle", "test-vllm"))
                .body("find { it.id == 'embedded-minilm' }.exemplarShare", equalTo(0.35f))
                .body("find { it.id == 'embedded-minilm' }.available", equalTo(true))
                .body("find { it.id == 'test-vllm' }.available", equalTo(false))
                .body("find { it.id == 'test-vllm' }.availability", containsString("TEST_VLLM_KEY is not set"))
                .body("find { it.id == 'test-vllm' }.apiKey", equalTo("env TEST_VLLM_KEY"))
                .body("find { it.id == 'test-vllm' }.baseUrl", equalTo("http://127.0.0.1:9/v1"));
    }

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    @Test
    void isReadyOnceTheEncodersLoad() {
        given().when().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'embedded-encoders' }.status", equalTo("UP"));
    }

    @Test
    void exportsStepMetricsInPrometheusForm() {
        var request = ExecuteStepTests.step("classify", Map.of("text", "Where is my parcel?"), ExecuteStepTests.CHEAP)
                .build();
        worker.executeStep(request);
        worker.executeStep(request);

        given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("tandem_worker_steps_seconds_count{model=\"embedded-minilm\",outcome=\"passed\",worker_type=\"classify\"}"))
                .body(containsString("tandem_worker_confidence_count{model=\"embedded-minilm\",worker_type=\"classify\"}"))
                .body(containsString("tandem_worker_checkpoint_hits_total{worker_type=\"classify\"}"));
    }
}
