package dev.tandem.audit.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;

import dev.tandem.audit.LedgerDatabase;
import dev.tandem.proto.audit.v1.AuditServiceGrpc.AuditServiceBlockingStub;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.ListStreamsRequest;
import dev.tandem.proto.audit.v1.ListStreamsResponse;
import dev.tandem.proto.audit.v1.OnboardingOutlook;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.Verdict;

@QuarkusTest
class AuditAdminResourceTests {

    @GrpcClient("audit")
    AuditServiceBlockingStub audit;

    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "tandem.audit.sampling.normal-rate")
    double normalRate;

    @BeforeAll
    static void logFailures() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }

    @BeforeEach
    void seedLedger() throws Exception {
        LedgerDatabase.clean();
        decide("task-1/classify/1", "task-1", "embedded-minilm", "classify", 0.9);
        decide("task-1/extract/1", "task-1", "embedded-minilm", "extract", 0.3);
        decide("task-2/classify/1", "task-2", "meta-llama/Llama-3.1-8B", "classify", 0.8);
        audit.recordVerdict(RecordVerdictRequest.newBuilder().setDecisionId("task-1/classify/1")
                .setVerdict(Verdict.VERDICT_ACCEPTED).setReviewer("embedded-bge-oracle").setReason("correct").build());
    }

    @Test
    void listsEveryStream() {
        given().when().get("/api/streams").then()
                .statusCode(200)
                .body("$", hasSize(3))
                .body("workerType", hasItem("extract"))
                .body("find { it.workerType == 'classify' && it.workerBackend == 'embedded-minilm' }.reviewed",
                        equalTo(1))
                .body("find { it.workerType == 'classify' && it.workerBackend == 'embedded-minilm' }.state",
                        equalTo("PROBATION"));
    }

    @Test
    void getsOneStreamEvenWhenTheBackendNameHasASlash() {
        given().when().get("/api/streams/embedded-minilm/classify").then()
                .statusCode(200)
                .body("state", equalTo("PROBATION"))
                .body("decided", equalTo(1))
                .body("reviewRate", equalTo(1.0f))
                .body("samplingRate", equalTo(1.0f));
        given().when().get("/api/streams/meta-llama/Llama-3.1-8B/classify").then()
                .statusCode(200)
                .body("workerBackend", equalTo("meta-llama/Llama-3.1-8B"));
        given().when().get("/api/streams/embedded-minilm/unknown-type").then()
                .statusCode(404)
                .body("error", containsString("embedded-minilm/unknown-type"));
    }

    @Test
    void queriesTheLedgerByTaskBackendAndLimit() {
        given().queryParam("task_id", "task-1").when().get("/api/decisions").then()
                .statusCode(200)
                .body("decisionId", equalTo(java.util.List.of("task-1/extract/1", "task-1/classify/1")));
        given().queryParam("worker_backend", "meta-llama/Llama-3.1-8B").when().get("/api/decisions").then()
                .statusCode(200)
                .body("$", hasSize(1));
        given().queryParam("limit", 1).when().get("/api/decisions").then()
                .statusCode(200)
                .body("$", hasSize(1))
                .body("[0].decisionId", equalTo("task-2/classify/1"));
        given().queryParam("limit", -5).when().get("/api/decisions").then()
                .statusCode(400)
                .body("violations[0].field", equalTo("page_size"));
    }

    @Test
    void showsOneDecisionWithItsVerdict() {
        given().urlEncodingEnabled(false).when().get("/api/decisions/task-1/classify/1").then()
                .statusCode(200)
                .body("action", equalTo("REVIEW"))
                .body("reason", equalTo("PROBATION"))
                .body("mode", equalTo("BLOCKING"))
                .body("verdict", equalTo("ACCEPTED"))
                .body("reviewer", equalTo("embedded-bge-oracle"))
                .body("explanation", containsString("probation"));
        given().when().get("/api/decisions/{id}", "task-1/extract/1").then()
                .statusCode(200)
                .body("verdict", nullValue());
        given().when().get("/api/decisions/unknown").then().statusCode(404);
    }

    @Test
    void listsStateChanges() {
        given().queryParam("worker_type", "classify").when().get("/api/state-changes").then()
                .statusCode(200)
                .body("$", hasSize(2))
                .body("to", equalTo(java.util.List.of("PROBATION", "PROBATION")))
                .body("from", equalTo(java.util.Arrays.asList(null, null)));
    }

    @Test
    void exportsAuditMetricsAndHealth() {
        given().when().get("/q/metrics").then()
                .statusCode(200)
                .body(containsString("tandem_audit_decisions_total{"))
                .body(containsString("tandem_audit_verdicts_total{verdict=\"ACCEPTED\"}"))
                .body(containsString("tandem_audit_decide_seconds_count"))
                .body(containsString("tandem_audit_stream_state{"))
                .body(containsString("tandem_audit_stream_error_upper_bound{"));
        given().when().get("/q/health/ready").then()
                .statusCode(200)
                .body(containsString("audit-ledger"));
    }

    @Test
    void onboardingEvidenceIsValidatedStoredAndShortensProbation() {
        given().contentType("application/json")
                .body("{\"worker_backend\":\"embedded-minilm\",\"worker_type\":\"\",\"source\":\"golden-set\","
                        + "\"items\":10,\"rejected\":11}")
                .when().put("/api/onboarding").then()
                .statusCode(400)
                .body("violations.field", equalTo(java.util.List.of("worker_type", "rejected")));
        given().contentType("application/json")
                .body("{\"worker_backend\":\"embedded-minilm\",\"worker_type\":\"classify\",\"source\":\"golden-set\","
                        + "\"items\":200,\"rejected\":0,\"detail\":\"support-ticket v1\"}")
                .when().put("/api/onboarding").then()
                .statusCode(200)
                .body("items", equalTo(200))
                .body("recorded_at", org.hamcrest.Matchers.notNullValue());
        given().when().get("/api/onboarding").then()
                .statusCode(200)
                .body("$", hasSize(1))
                .body("[0].detail", equalTo("support-ticket v1"));

        // The stream already has one accepted review; 19 more make the 20 production reviews the prior needs.
        for (int i = 0; i < 19; i++) {
            String id = "task-o" + i + "/classify/1";
            decide(id, "task-o" + i, "embedded-minilm", "classify", 0.9);
            audit.recordVerdict(RecordVerdictRequest.newBuilder().setDecisionId(id)
                    .setVerdict(Verdict.VERDICT_ACCEPTED).setReviewer("embedded-bge-oracle").setReason("ok").build());
        }
        given().when().get("/api/streams/embedded-minilm/classify").then()
                .statusCode(200)
                .body("state", equalTo("NORMAL"));
        given().queryParam("worker_backend", "embedded-minilm").when().get("/api/state-changes").then()
                .statusCode(200)
                .body("[0].reason", containsString("onboarding prior"));
    }

    @Test
    void onboardingEvidenceIsPublishedToRoutersForStreamsSeenAndNotYetSeen() {
        given().contentType("application/json")
                .body("{\"worker_backend\":\"embedded-minilm\",\"worker_type\":\"classify\",\"source\":\"golden-set\","
                        + "\"items\":200,\"rejected\":56}")
                .when().put("/api/onboarding").then().statusCode(200);
        given().contentType("application/json")
                .body("{\"worker_backend\":\"mixtral\",\"worker_type\":\"solve\",\"source\":\"golden-set\","
                        + "\"items\":100,\"rejected\":0}")
                .when().put("/api/onboarding").then().statusCode(200);

        ListStreamsResponse list = audit.listStreams(ListStreamsRequest.getDefaultInstance());

        // the stream in probation carries the evidence with its one accepted production review
        OnboardingOutlook seen = list.getStreamsList().stream()
                .filter(s -> s.getKey().getWorkerBackend().equals("embedded-minilm")
                        && s.getKey().getWorkerType().equals("classify"))
                .findFirst().orElseThrow().getOnboarding();
        assertThat(seen.getItems()).isEqualTo(200);
        assertThat(seen.getRejected()).isEqualTo(56);
        assertThat(seen.getPriorWeight()).isEqualTo(100.0);
        assertThat(seen.getProductionReviewed()).isEqualTo(1);
        assertThat(seen.getErrorRate()).isCloseTo(28.0 / 101, within(1e-12));
        assertThat(seen.getTargetErrorRate()).isEqualTo(0.01);
        assertThat(seen.getProjectedReviewProbability()).isGreaterThan(0.96);
        // a backend no output of which was decided yet is listed by its evidence alone
        OnboardingOutlook unseen = list.getOnboardedList().stream()
                .filter(o -> o.getKey().getWorkerBackend().equals("mixtral")).findFirst().orElseThrow();
        assertThat(unseen.getKey().getWorkerType()).isEqualTo("solve");
        assertThat(unseen.getKey().getTenant()).isEmpty();
        assertThat(unseen.getErrorRate()).isZero();
        assertThat(unseen.getProductionReviewed()).isZero();
        // streams without evidence carry none
        assertThat(list.getStreamsList().stream().filter(s -> s.getKey().getWorkerType().equals("extract"))
                .findFirst().orElseThrow().hasOnboarding()).isFalse();
    }

    @Test
    void theGoldenItemsConfidencesAreStoredValidatedAndPriceAThresholdForRouters() {
        // 4 of 100 wrong, each less confident than every right item: a threshold at 0.6 passes the 96 right ones
        String right = java.util.stream.IntStream.range(0, 96).mapToObj(i -> String.valueOf(0.6 + 0.004 * i))
                .collect(java.util.stream.Collectors.joining(","));
        given().contentType("application/json")
                .body("{\"worker_backend\":\"conf-model\",\"worker_type\":\"classify\",\"source\":\"golden-set\","
                        + "\"items\":100,\"rejected\":4,\"right_confidences\":[0.9],"
                        + "\"wrong_confidences\":[0.1,0.2,1.5,0.3]}")
                .when().put("/api/onboarding").then()
                .statusCode(400)
                .body("violations.field", equalTo(java.util.List.of("right_confidences",
                        "wrong_confidences[2]")));
        given().contentType("application/json")
                .body("{\"worker_backend\":\"conf-model\",\"worker_type\":\"classify\",\"source\":\"golden-set\","
                        + "\"items\":100,\"rejected\":4,\"right_confidences\":[" + right + "],"
                        + "\"wrong_confidences\":[0.1,0.2,0.25,0.3]}")
                .when().put("/api/onboarding").then()
                .statusCode(200)
                .body("wrong_confidences", hasSize(4));
        given().when().get("/api/onboarding").then()
                .statusCode(200)
                .body("find { it.worker_backend == 'conf-model' }.right_confidences", hasSize(96));

        OnboardingOutlook o = audit.listStreams(ListStreamsRequest.getDefaultInstance()).getOnboardedList().stream()
                .filter(x -> x.getKey().getWorkerBackend().equals("conf-model")).findFirst().orElseThrow();
        // 4 % wrong is above the 2 % trust target at A = 1 %: without the confidences every output stays reviewed;
        // with them the threshold passes the 96 right items ((0 + 1/2) / 101 <= 1 %; one wrong more: 1.5 %)
        assertThat(o.getErrorRate()).isCloseTo(0.04, within(1e-12));
        assertThat(o.getThresholdPassShare()).isCloseTo(0.96, within(1e-12));
        assertThat(o.getThreshold()).isCloseTo(0.6, within(1e-12));
        assertThat(o.getProjectedReviewProbability()).isCloseTo(0.04 + 0.96 * normalRate, within(1e-9));
    }

    private void decide(String id, String task, String backend, String type, double confidence) {
        audit.decide(DecideRequest.newBuilder().setDecisionId(id).setTaskId(task).setWorkerBackend(backend)
                .setWorkerType(type).setConfidence(confidence).setValidationPassed(true).build());
    }
}
