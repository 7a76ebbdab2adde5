package dev.tandem.worker;

import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.Status;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static dev.tandem.worker.ExecuteStepTests.step;
import static dev.tandem.worker.GrpcAssertions.failsWith;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keyed ExecuteStep and ReviewStep calls ({@code idempotency_key}) against a stub model server that counts its
 * requests: a repeat of the key joins the model call in flight or gets its recorded answer, and the model is called
 * once, whatever attempt number the repeat carries (a restarted router numbers its attempts anew); a key reused for
 * another request is INVALID_ARGUMENT; unkeyed calls run every time.
 */
@QuarkusTest
@QuarkusTestResource(ModelStubs.class)
class KeyedStepTests {

    private static final String CHAT = "/vllm/v1/chat/completions";
    private static final Map<String, String> TICKET = Map.of("text", "I was charged twice, please refund one.");

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    @GrpcClient("worker")
    io.grpc.Channel channel;

    @BeforeEach
    void reset() {
        ModelStubs.server.resetAll();
    }

    /** The stub answers a classification after {@code delayMs}. */
    private static void answerAfter(int delayMs) {
        ModelStubs.server.stubFor(post(CHAT).willReturn(aResponse().withStatus(200).withFixedDelay(delayMs)
                .withHeader("Content-Type", "application/json").withBody(LlmStepTests.completion(List.<Object[]>of(
                        new Object[] {"{\"label\":\"billing\"}", 0.9}), 120, 0))));
    }

    private static int modelCalls() {
        return ModelStubs.server.findAll(postRequestedFor(urlEqualTo(CHAT))).size();
    }

    /** A keyed step of a task of its own (the worker's checkpoint replays a step of the same task and attempt). */
    private static ExecuteStepRequest.Builder keyed(String key) {
        return step("classify", TICKET, "stub-vllm").setTaskId("task-" + key.hashCode()).setIdempotencyKey(key);
    }

    @Test
    void aRepeatJoinsTheModelCallInFlightThenGetsItsRecordedAnswerAndTheModelRunsOnce() throws Exception {
        answerAfter(1500);
        var key = "acme/task-keyed/s1/execute@stub-vllm-" + UUID.randomUUID();
        var async = WorkerServiceGrpc.newFutureStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);

        var first = async.executeStep(keyed(key).setAttempt(1).build());
        Thread.sleep(300); // the model is answering the first
        var joined = async.executeStep(keyed(key).setAttempt(2).build());
        ExecuteStepResponse a = first.get(20, TimeUnit.SECONDS);
        ExecuteStepResponse b = joined.get(20, TimeUnit.SECONDS);
        // a router restarted since numbers its attempts from 1 again
        ExecuteStepResponse recorded = worker.executeStep(keyed(key).setAttempt(1).build());

        assertThat(modelCalls()).isEqualTo(1);
        assertThat(a.getOutput()).startsWith("{\"label\":\"billing\"");
        assertThat(a.getFromCheckpoint()).isFalse();
        assertThat(b.getOutput()).isEqualTo(a.getOutput());
        assertThat(b.getUsage()).isEqualTo(a.getUsage()); // what the one call used
        assertThat(b.getFromCheckpoint()).isTrue();
        assertThat(recorded.getOutput()).isEqualTo(a.getOutput());
        assertThat(recorded.getFromCheckpoint()).isTrue();

        var metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(counter(metrics, "how=\"joined\",rpc=\"execute\"")).isGreaterThanOrEqualTo(1);
        assertThat(counter(metrics, "how=\"recorded\",rpc=\"execute\"")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void callsWithoutAKeyRunEveryTime() {
        answerAfter(0);
        var task = "task-unkeyed-" + UUID.randomUUID();
        worker.executeStep(step("classify", TICKET, "stub-vllm").setTaskId(task).build());
        worker.executeStep(step("classify", TICKET, "stub-vllm").setTaskId(task).setAttempt(2).build());

        assertThat(modelCalls()).isEqualTo(2);
    }

    @Test
    void aKeyReusedForAnotherRequestIsInvalidArgumentNamingTheKey() {
        answerAfter(0);
        var key = "acme/task-keyed/s1/execute@stub-vllm-" + UUID.randomUUID();
        worker.executeStep(keyed(key).build());

        var fields = failsWith(Status.Code.INVALID_ARGUMENT, () -> worker.executeStep(keyed(key)
                .putInputs("text", "Another ticket altogether.").build()));
        var anotherModel = failsWith(Status.Code.INVALID_ARGUMENT, () -> worker.executeStep(keyed(key)
                .setModelId("stub-vllm-nologprobs").build()));
        var tooLong = failsWith(Status.Code.INVALID_ARGUMENT, () -> worker.executeStep(keyed("k".repeat(513))
                .build()));

        assertThat(fields).containsExactly("idempotency_key");
        assertThat(anotherModel).containsExactly("idempotency_key");
        assertThat(tooLong).containsExactly("idempotency_key");
        assertThat(modelCalls()).isEqualTo(1);
    }

    @Test
    void aRepeatedReviewKeyIsAnsweredFromTheRecordWithoutCallingTheReviewerAgain() {
        answerAfter(0);
        var review = ReviewStepRequest.newBuilder().setTaskId("task-review-" + UUID.randomUUID()).setStepId("s1")
                .setWorkerType("classify").putAllInputs(TICKET).setCandidateOutput("{\"label\":\"billing\"}")
                .setCandidateModelId("embedded-minilm").setModelId("stub-vllm")
                .setIdempotencyKey("acme/task-keyed-review/s1/review@stub-vllm-" + UUID.randomUUID()).build();

        var first = worker.reviewStep(review);
        var repeat = worker.reviewStep(review);
        worker.reviewStep(review.toBuilder().clearIdempotencyKey().build());

        assertThat(repeat).isEqualTo(first);
        assertThat(modelCalls()).isEqualTo(2); // the first and the unkeyed one
    }

    private static double counter(String metrics, String tags) {
        return metrics.lines().filter(l -> l.startsWith("tandem_worker_deduplicated_calls_total{")
                        && l.contains(tags))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
