package dev.tandem.router;

import static dev.tandem.router.TestSupport.fieldViolations;
import static dev.tandem.router.TestSupport.step;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.hamcrest.Matchers.containsString;

import java.time.Instant;

import com.google.protobuf.Timestamp;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.RouteRequest;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.worker.v1.LatencyClass;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Requirements, times and sizes at and past the edges of their range: refused naming the field, never read as "no
 * requirement" (NaN fails every comparison) and never overflowing into a deadline already passed or a negative price.
 */
@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
class RequestBoundsTests {

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    @BeforeAll
    static void logFailures() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }

    @Test
    void aRequirementOutsideItsRangeOrNotANumberIsRefusedByDispatchReviewAndRoute() {
        StepRequirements nan = StepRequirements.newBuilder().setBudgetUsd(Double.NaN).setLatencyTargetMs(Double.NaN)
                .setMinQuality(Double.NaN).setMaxErrorRate(Double.NaN).build();
        String[] all = { "requirements.budget_usd", "requirements.latency_target_ms", "requirements.min_quality",
            "requirements.max_error_rate" };
        invalid(() -> router.dispatch(step("classify").setRequirements(nan).build()), all);
        invalid(() -> router.route(RouteRequest.newBuilder().setWorkerType("classify").setRequirements(nan).build()),
                all);
        invalid(() -> router.review(review().setRequirements(nan).build()), all);

        invalid(() -> router.dispatch(step("classify").setRequirements(StepRequirements.newBuilder()
                .setMaxErrorRate(-0.01).setBudgetUsd(Double.POSITIVE_INFINITY).setMinContextTokens(-1)).build()),
                "requirements.max_error_rate", "requirements.budget_usd", "requirements.min_context_tokens");
        invalid(() -> router.route(RouteRequest.newBuilder().setWorkerType("classify")
                .setRequirements(StepRequirements.newBuilder().setMaxErrorRate(1.5)).build()),
                "requirements.max_error_rate");
        // a tier a newer client knows: not "no minimum", which would route the step to the smallest model
        invalid(() -> router.dispatch(step("classify").setRequirements(StepRequirements.newBuilder()
                .setMinTierValue(9)).build()), "requirements.min_tier");
        invalid(() -> router.review(review().setRequirements(StepRequirements.newBuilder().setMinQuality(2)).build()),
                "requirements.min_quality");
    }

    @Test
    void aBatchStepWhoseWindowEndsCenturiesAheadRunsAndAnInvalidDeadlineIsRefused() {
        // its nanoseconds from now overflowed a long: the step failed at once, "deadline passed after 0 attempts"
        Instant far = Instant.parse("3000-01-01T00:00:00Z");
        DispatchResponse response = router.dispatch(step("classify").setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH)
                .setBatchDeadline(Timestamp.newBuilder().setSeconds(far.getEpochSecond())).build());
        assertThat(response.getResult().getModelId()).isEqualTo("embedded-minilm");

        invalid(() -> router.dispatch(step("classify").setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH)
                .setBatchDeadline(Timestamp.newBuilder().setSeconds(Long.MAX_VALUE)).build()), "batch_deadline");
        invalid(() -> router.review(review().setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH)
                .setBatchDeadline(Timestamp.newBuilder().setSeconds(far.getEpochSecond()).setNanos(-1)).build()),
                "batch_deadline");
    }

    @Test
    void anInputEstimateNoContextHoldsIsRefusedNotPricedNegative() {
        invalid(() -> router.route(RouteRequest.newBuilder().setWorkerType("classify")
                .setEstimatedInputTokens(Long.MAX_VALUE).build()), "estimated_input_tokens");
        var largest = router.route(RouteRequest.newBuilder().setWorkerType("classify")
                .setEstimatedInputTokens(Integer.MAX_VALUE).build()).getDecision();
        assertThat(largest.getCandidatesList()).filteredOn(c -> c.getEligible())
                .isNotEmpty().allSatisfy(c -> {
                    assertThat(c.getEstimatedCostUsd()).isPositive();
                    assertThat(c.getExpectedCostUsd()).isPositive();
                    assertThat(c.getReviewCostUsd()).isNotNegative();
                });
    }

    @Test
    void theDryRunRefusesANumberItCannotReadWithABodySayingWhy() {
        given().when().get("/api/route").then().statusCode(400)
                .body("error", containsString("worker_type is required"));
        for (String[] bad : new String[][] { { "latency_target_ms", "NaN" }, { "budget_usd", "lots" },
            { "budget_usd", "Infinity" }, { "min_context_tokens", "1.5" }, { "estimated_input_tokens", "-1" },
            { "estimated_input_tokens", "9223372036854775807" } }) {
            given().queryParam("worker_type", "classify").queryParam(bad[0], bad[1]).when().get("/api/route").then()
                    .statusCode(400)
                    .body("error", containsString(bad[0]));
        }
        given().queryParam("worker_type", "classify").queryParam("budget_usd", "0.5")
                .queryParam("latency_target_ms", "5000").when().get("/api/route").then().statusCode(200);
    }

    @Test
    void aCatalogModelWithAnInfinitePriceOrANanQualityIsRefused() {
        given().contentType(ContentType.JSON).body("{\"tier\":\"small\",\"input-usd-per-mtok\":1e400,"
                + "\"output-usd-per-mtok\":1,\"worker-types\":[\"bounds-test\"]}")
                .when().put("/api/catalog/models/bounds-inf").then().statusCode(400)
                .body("error", containsString("input-usd-per-mtok must not be negative or infinite"));
        given().contentType(ContentType.JSON).body("{\"tier\":\"small\",\"input-usd-per-mtok\":1,"
                + "\"output-usd-per-mtok\":1,\"worker-types\":[\"bounds-test\"],\"prior-quality\":\"NaN\"}")
                .when().put("/api/catalog/models/bounds-nan").then().statusCode(400)
                .body("error", containsString("prior-quality must be in [0, 1]"));
        given().when().get("/api/catalog").then().statusCode(200)
                .body("models.id", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(
                        org.hamcrest.Matchers.startsWith("bounds-"))));
    }

    private static ReviewRequest.Builder review() {
        return ReviewRequest.newBuilder().setTaskId("task-bounds").setStepId("s1").setWorkerType("classify")
                .putInputs("text", "The parcel arrived broken.").setCandidateOutput("{\"label\":\"complaint\"}")
                .setCandidateModelId("embedded-minilm");
    }

    private static void invalid(Runnable call, String... fields) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
        assertThat(e).as("the call was accepted").isNotNull();
        assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(fieldViolations(e)).containsExactlyInAnyOrder(fields);
    }
}
