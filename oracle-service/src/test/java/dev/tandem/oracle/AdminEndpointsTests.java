package dev.tandem.oracle;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasSize;

/** The admin read endpoints over HTTP, and the metrics and health an operator relies on. */
@QuarkusTest
class AdminEndpointsTests extends OracleTestBase {

    @Test
    void pipelinesAreListedWithTheirSteps() {
        given().get("/api/pipelines").then().statusCode(200)
                .body("name", hasItems("document-triage", "document-summary", "field-extraction", "sentiment"))
                .body("find { it.name == 'document-triage' }.steps", hasSize(5))
                .body("find { it.name == 'document-triage' }.required_inputs", hasItems("document"));
        given().get("/api/pipelines/sentiment").then().statusCode(200)
                .body("steps[0].worker_type", equalTo("classify"));
        given().get("/api/pipelines/nope").then().statusCode(404);
    }

    @Test
    void recentTasksAndOneTaskAreShown() {
        var response = oracle().execute(triage());
        var id = response.getTaskId();
        given().get("/api/tasks/" + id).then().statusCode(200)
                .body("taskId", equalTo(id))
                .body("status", equalTo("succeeded"))
                .body("plan.pipeline", equalTo("document-triage"))
                .body("steps", hasSize(5))
                .body("steps[0].executedBy", equalTo("embedded-minilm@local"))
                .body("cost.actualUsd", org.hamcrest.Matchers.greaterThan(0f));
        given().queryParam("limit", 1).get("/api/tasks").then().statusCode(200)
                .body("", hasSize(1)).body("[0].taskId", equalTo(id));
        given().get("/api/tasks/does-not-exist").then().statusCode(404);
        for (var limit : new String[] {"0", "1001", "ten"}) {
            given().queryParam("limit", limit).get("/api/tasks").then().statusCode(400)
                    .body("violations[0].field", equalTo("limit"))
                    .body("violations[0].description", containsString("1 to 1000"));
        }
    }

    @Test
    void standardGrpcHealthAnswers() throws Exception {
        int port = org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("quarkus.http.test-port", Integer.class);
        var channel = io.grpc.ManagedChannelBuilder.forAddress("localhost", port).usePlaintext().build();
        try {
            var status = grpc.health.v1.HealthGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS)
                    .check(grpc.health.v1.HealthOuterClass.HealthCheckRequest.getDefaultInstance()).getStatus();
            org.assertj.core.api.Assertions.assertThat(status)
                    .isEqualTo(grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus.SERVING);
        } finally {
            channel.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void metricsAndHealthAreExposed() {
        oracle().execute(triage());
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("tandem_oracle_tasks_seconds_count{outcome=\"ok\",pipeline=\"document-triage\"}"))
                .body(containsString("tandem_oracle_steps_seconds_count"))
                .body(containsString("tandem_oracle_cost_actual_total"))
                .body(containsString("tandem_oracle_cost_all_oracle_total"))
                .body(containsString("tandem_oracle_tasks_in_flight"));
        given().get("/q/health/ready").then().statusCode(200).body(containsString("pipeline-catalog"));
    }
}
