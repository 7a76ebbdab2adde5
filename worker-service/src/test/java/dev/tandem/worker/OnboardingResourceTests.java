package dev.tandem.worker;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.lessThan;

/** Onboarding a model on a golden set: judged against references, or by the reviewer where there is none. */
@QuarkusTest
class OnboardingResourceTests {

    @BeforeAll
    static void logFailures() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }

    @Test
    void theBundledClassifyGoldenSetIsJudgedAgainstItsReferenceLabelsAtNoModelCost() {
        var answer = given().contentType("application/json")
                .body("{\"model\":\"embedded-minilm\",\"worker_type\":\"classify\"}")
                .when().post("/api/onboarding/evaluate").then().statusCode(200)
                .body("evaluation.items", equalTo(200))
                .body("evaluation.judgedByReference", equalTo(200))
                .body("evaluation.judgedByReviewer", equalTo(0))
                .body("evaluation.rejected", allOf(greaterThan(0), lessThan(100)))
                .body("evidence.worker_backend", equalTo("embedded-minilm"))
                .body("evidence.worker_type", equalTo("classify"))
                .body("evidence.source", equalTo("golden-set"))
                .body("evidence.detail", containsString("200 judged against reference outputs"))
                .extract().jsonPath();
        // every item's raw confidence, on the side it was judged
        int rejected = answer.getInt("evidence.rejected");
        org.assertj.core.api.Assertions.assertThat(answer.getList("evidence.wrong_confidences")).hasSize(rejected);
        org.assertj.core.api.Assertions.assertThat(answer.getList("evidence.right_confidences"))
                .hasSize(200 - rejected);
    }

    @Test
    void aWrongReferenceCountsAsAWrongOutputAndIsShown() {
        String text = "I was charged twice for my subscription this month, please refund the duplicate payment.";
        var answer = given().contentType("application/json")
                .body("{\"model\":\"embedded-minilm\",\"worker_type\":\"classify\",\"items\":["
                        + "{\"id\":\"a\",\"inputs\":{\"text\":\"" + text + "\",\"taxonomy\":\"support-ticket\"},"
                        + "\"expected\":{\"label\":\"billing\"}},"
                        + "{\"id\":\"b\",\"inputs\":{\"text\":\"" + text + "\",\"taxonomy\":\"support-ticket\"},"
                        + "\"expected\":{\"label\":\"shipping\"}}]}")
                .when().post("/api/onboarding/evaluate").then().statusCode(200)
                .body("evaluation.items", equalTo(2))
                .body("evaluation.rejected", equalTo(1))
                .body("evaluation.wrong[0].id", equalTo("b"))
                .body("evidence.detail", containsString("sent by the caller"))
                .extract().jsonPath();
        // the same output judged right once and wrong once: its raw confidence on each side of the evidence
        java.util.List<Float> right = answer.getList("evidence.right_confidences");
        java.util.List<Float> wrong = answer.getList("evidence.wrong_confidences");
        org.assertj.core.api.Assertions.assertThat(right).hasSize(1);
        org.assertj.core.api.Assertions.assertThat(wrong).containsExactlyElementsOf(right);
        org.assertj.core.api.Assertions.assertThat(answer.getFloat("evaluation.wrong[0].confidence"))
                .isEqualTo(wrong.get(0));
    }

    @Test
    void itemsWithoutReferencesAreJudgedByTheReviewerWhoseTokensAreReported() {
        given().contentType("application/json")
                .body("{\"model\":\"embedded-minilm\",\"worker_type\":\"extract\",\"reviewer\":\"embedded-bge-oracle\","
                        + "\"items\":[{\"id\":\"x\",\"inputs\":{\"text\":\"Refund of $12.50 for order ORD-123456 "
                        + "issued on 3 March 2026, questions to help@example.com\",\"fields\":\"email,order_id\"}}]}")
                .when().post("/api/onboarding/evaluate").then().statusCode(200)
                .body("evaluation.judgedByReviewer", equalTo(1))
                .body("evaluation.reviewer", equalTo("embedded-bge-oracle"))
                .body("evaluation.reviewerUsage.inputTokens", greaterThan(0));
    }

    @Test
    void badRequestsNameTheFieldsAtFault() {
        given().contentType("application/json").body("{\"worker_type\":\"\"}")
                .when().post("/api/onboarding/evaluate").then().statusCode(400)
                .body("violations.field", hasItem("model"))
                .body("violations.field", hasItem("worker_type"));
        given().contentType("application/json").body("{\"model\":\"embedded-minilm\",\"worker_type\":\"extract\"}")
                .when().post("/api/onboarding/evaluate").then().statusCode(400)
                .body("violations[0].field", equalTo("reviewer"));
        given().contentType("application/json").body("{\"model\":\"embedded-minilm\",\"worker_type\":\"intent\"}")
                .when().post("/api/onboarding/evaluate").then().statusCode(400)
                .body("violations[0].description", containsString("no golden set for worker type 'intent'"));
    }

    /**
     * Refusals name the body's own fields: an item's input as items[i].inputs.x (it was inputs.x, whichever item),
     * an unknown model or reviewer as model / reviewer with 400 (it was model_id with 404), and a body that does not
     * read as JSON or has the wrong shape is a 400 with a violation (it was an empty 400, or Jackson's internals).
     * Every item is checked before the first model call: an item refused half way used to stop a paid set there.
     */
    @Test
    void refusalsNameTheBodysFieldsAndComeBeforeAnyItemRuns() {
        var ticket = "{\"id\":\"a\",\"inputs\":{\"text\":\"I was charged twice.\"},\"expected\":{\"label\":\"billing\"}}";
        given().contentType("application/json").body("{\"model\":\"embedded-minilm\",\"worker_type\":\"classify\","
                        + "\"items\":[" + ticket + ",{\"id\":\"b\",\"inputs\":{\"text\":\" \"},\"expected\":{\"label\":\"billing\"}}]}")
                .when().post("/api/onboarding/evaluate").then().statusCode(400)
                .body("violations.field", contains("items[1].inputs.text"));
        given().contentType("application/json").body("{\"model\":\"nope\",\"worker_type\":\"classify\",\"items\":["
                        + ticket + "]}")
                .when().post("/api/onboarding/evaluate").then().statusCode(400)
                .body("violations.field", contains("model"));
        given().contentType("application/json").body("{\"model\":\"embedded-minilm\",\"worker_type\":\"classify\","
                        + "\"reviewer\":\"nope\",\"items\":[{\"inputs\":{\"text\":\"I was charged twice.\"}}]}")
                .when().post("/api/onboarding/evaluate").then().statusCode(400)
                .body("violations.field", contains("reviewer"));
        given().contentType("application/json").body("not json")
                .when().post("/api/onboarding/evaluate").then().statusCode(400)
                .body("violations.field", contains("body"));
        given().contentType("application/json").body("{\"model\":\"embedded-minilm\",\"worker_type\":\"classify\","
                        + "\"items\":\"all of them\"}")
                .when().post("/api/onboarding/evaluate").then().statusCode(400)
                .body("violations.field", contains("items"));
    }
}
