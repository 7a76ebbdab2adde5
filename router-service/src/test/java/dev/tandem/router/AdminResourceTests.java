package dev.tandem.router;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
class AdminResourceTests {

    @jakarta.inject.Inject
    dev.tandem.router.learning.QualityLearning learning;

    /** The audit streams the routing rules price reviews with, read before each test (not on the poll's timer). */
    @org.junit.jupiter.api.BeforeEach
    void readAuditStreams() {
        learning.poll();
    }

    @BeforeAll
    static void logFailures() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }

    @Test
    void catalogShowsModelsAndPoolsWithCircuitState() {
        given().when().get("/api/catalog").then().statusCode(200)
                .body("oracleModel", equalTo("embedded-bge-oracle"))
                .body("models.id", hasItems("embedded-minilm", "embedded-bge-oracle"))
                .body("models.find { it.id == 'embedded-minilm' }.tier", equalTo("SMALL"))
                .body("pools.find { it.id == 'local' }.capacity", equalTo(32))
                .body("pools.find { it.id == 'local' }.circuit", equalTo("closed"));
    }

    @Test
    void routeIsADryRunDecision() {
        given().queryParam("worker_type", "classify").when().get("/api/route").then().statusCode(200)
                .body("modelId", equalTo("embedded-minilm"))
                .body("poolId", equalTo("local"))
                .body("explanation", startsWith("chose embedded-minilm@local"))
                .body("candidates.find { it.modelId == 'embedded-bge-oracle' }.rank", equalTo(2))
                .body("candidates.find { it.modelId == 'fo-cheap' }.rejection",
                        equalTo("model does not serve worker type 'classify'"));

        given().queryParam("worker_type", "classify").queryParam("min_tier", "oracle").when().get("/api/route")
                .then().statusCode(200).body("modelId", equalTo("embedded-bge-oracle"));
    }

    @Test
    void routeWithoutWorkerTypeOrWithAnUnknownTierIsBadRequest() {
        given().when().get("/api/route").then().statusCode(400);
        given().queryParam("worker_type", "classify").queryParam("min_tier", "huge").when().get("/api/route")
                .then().statusCode(400);
    }

    @Test
    void backendsListEveryModelPoolPair() {
        given().when().get("/api/backends").then().statusCode(200)
                .body("backend", hasItem("embedded-minilm@local"))
                .body("find { it.backend == 'embedded-minilm@local' }.capacity", equalTo(32));
    }

    @Test
    void metricsAndHealthAreExposed() {
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("tandem_router_pool_capacity"));
    }
}
