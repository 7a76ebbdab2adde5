package dev.tandem.worker;

import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.tandem.worker.ExecuteStepTests.step;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The caller's deadline reaches the model call: against a model server that never answers (its configured timeout
 * is ten minutes, the worker's own cap thirty seconds), the model's connection is closed because the caller's
 * deadline passed, and the model call ends as a timeout. (A caller's cancellation of a unary call does not reach
 * a service on the HTTP-port gRPC server, eclipse-vertx/vert.x#5562; it is covered where it can be observed, in
 * model-clients' {@code ModelCallDeadlineTests}.)
 */
@QuarkusTest
@QuarkusTestResource(HeldModel.class)
class StepDeadlineTests {

    private static final Map<String, String> TICKET = Map.of("text", "I was charged twice for March, please refund.");

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    @GrpcClient("worker")
    io.grpc.Channel channel;

    private static boolean warm;

    /**
     * The first call to a model builds its HTTP client (seconds on a busy machine); a deadline meant for the
     * request must not run out before it is sent.
     */
    @BeforeEach
    void warmUpAndForget() {
        if (!warm) {
            try {
                worker.withDeadlineAfter(10, TimeUnit.SECONDS)
                        .executeStep(step("classify", TICKET, HeldModel.MODEL).build());
            } catch (StatusRuntimeException expected) {
                // the held model never answers
            }
            warm = true;
        }
        HeldModel.forgetEarlierRequests();
    }

    @Test
    void theCallersDeadlineEndsTheModelCall() throws Exception {
        double before = modelErrors("TIMEOUT");
        var failure = catchThrowableOfType(StatusRuntimeException.class, () -> worker
                .withDeadlineAfter(3, TimeUnit.SECONDS).executeStep(step("classify", TICKET, HeldModel.MODEL).build()));

        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        var request = HeldModel.nextRequest();
        assertThat(request.closedByWorker()).as("the model's connection was closed at the deadline").isTrue();
        assertThat(eventually(() -> modelErrors("TIMEOUT") > before)).as("the model call ended as a timeout").isTrue();
    }

    @Test
    void aReviewRunsWithinTheCallersDeadlineToo() throws Exception {
        var review = ReviewStepRequest.newBuilder().setTaskId("task-review-deadline").setStepId("s1")
                .setWorkerType("classify").putAllInputs(TICKET).setCandidateOutput("{\"label\":\"billing\"}")
                .setCandidateModelId("embedded-minilm").setModelId(HeldModel.MODEL).build();
        var failure = catchThrowableOfType(StatusRuntimeException.class,
                () -> worker.withDeadlineAfter(3, TimeUnit.SECONDS).reviewStep(review));

        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(HeldModel.nextRequest().closedByWorker()).as("the reviewer's model call was ended").isTrue();
    }

    /** {@code tandem_worker_model_errors_total} of the held model for one error kind. */
    private static double modelErrors(String kind) {
        var metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("tandem_worker_model_errors_total{")
                        && l.contains("model=\"" + HeldModel.MODEL + "\"") && l.contains("kind=\"" + kind + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** The worker records the error after the caller has its answer: wait for it (bounded). */
    private static boolean eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }
}
