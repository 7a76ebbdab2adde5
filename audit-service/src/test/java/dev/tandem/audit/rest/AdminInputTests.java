package dev.tandem.audit.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

import dev.tandem.audit.LedgerDatabase;

/** Bad input to the admin API is a 400 whose body names the field: never an empty 400, a 404 or a 503. */
@QuarkusTest
class AdminInputTests {

    @BeforeAll
    static void logFailures() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }

    @BeforeEach
    void clean() throws Exception {
        LedgerDatabase.clean();
    }

    @Test
    void aBodyThatIsNotJsonOrHasAFieldOfTheWrongTypeIsA400NamingTheField() {
        given().contentType("application/json").body("{\"worker_backend\": ").when().put("/api/onboarding").then()
                .statusCode(400)
                .body("error", containsString("not valid"))
                .body("violations.field", equalTo(List.of("body")));
        given().contentType("application/json").body("{\"worker_backend\":\"embedded-minilm\",\"worker_type\":"
                + "\"classify\",\"source\":\"golden-set\",\"items\":\"many\",\"rejected\":0}")
                .when().put("/api/onboarding").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("items")));
        given().contentType("application/json").body("{\"worker_backend\":\"embedded-minilm\",\"worker_type\":"
                + "\"classify\",\"source\":\"golden-set\",\"items\":2,\"rejected\":0,"
                + "\"right_confidences\":[0.9,{\"p\":1}]}")
                .when().put("/api/onboarding").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("right_confidences[1]")));
        given().contentType("application/json").body("{\"reviewer\":\"alice\",\"max_tasks\":\"all\"}")
                .when().post("/api/review-tasks/claim").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("max_tasks")));
    }

    @Test
    void aVerdictThisApiDoesNotNameIsRefusedInItsOwnTerms() {
        for (String verdict : new String[] { "VERDICT_ACCEPTED", "maybe" }) {
            given().contentType("application/json").body("{\"decision_id\":\"t1/classify/1\",\"claim_token\":\"t\","
                    + "\"verdict\":\"" + verdict + "\",\"reviewer\":\"carol\"}")
                    .when().post("/api/review-tasks/verdict").then()
                    .statusCode(400)
                    .body("violations.field", equalTo(List.of("verdict")))
                    .body("violations[0].description", containsString("must be ACCEPTED or REJECTED"));
        }
        given().contentType("application/json").body("{\"decision_id\":\"t1/classify/1\",\"claim_token\":\"t\","
                + "\"reviewer\":\"carol\"}")
                .when().post("/api/review-tasks/verdict").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("verdict")));
    }

    @Test
    void aLimitThatIsNotANumberIsA400NotANotFound() {
        for (String path : List.of("/api/decisions", "/api/state-changes", "/api/review-tasks")) {
            given().queryParam("limit", "ten").when().get(path).then()
                    .statusCode(400)
                    .body("violations.field", equalTo(List.of("limit")));
            given().queryParam("limit", "99999999999").when().get(path).then()
                    .statusCode(400)
                    .body("violations.field", equalTo(List.of("limit")));
        }
        given().queryParam("limit", "2").when().get("/api/decisions").then().statusCode(200);
    }

    @Test
    void aNulCharacterOrAnInstantPastTheLedgersRangeIsA400NotAnUnavailableLedger() {
        given().contentType("application/json").body("{\"worker_backend\":\"embedded-minilm\",\"worker_type\":"
                + "\"classify\",\"source\":\"golden-set\",\"items\":5,\"rejected\":0,\"detail\":\"v1\\u0000\"}")
                .when().put("/api/onboarding").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("detail")));
        given().queryParam("task_id", "t\u0000").when().get("/api/decisions").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("task_id")));
        given().queryParam("since", "+318857-01-01T00:00:00Z").when().get("/api/decisions").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("since")));
        given().queryParam("worker_type", "classify\u0000").when().get("/api/state-changes").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("worker_type")));
        given().queryParam("tenant", "acme\u0000").when().get("/api/review-tasks").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("tenant")));
        given().queryParam("worker_type", "classify\u0000").when().get("/api/export/traces").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("worker_type")));
        given().urlEncodingEnabled(false).when().get("/api/decisions/t1%00").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("decision_id")));
        given().urlEncodingEnabled(false).when().get("/api/streams/embedded%00/classify").then()
                .statusCode(400)
                .body("violations.field", equalTo(List.of("worker_backend")));
    }
}
