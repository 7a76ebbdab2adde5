package dev.tandem.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import dev.tandem.proto.router.v1.Candidate;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.RouteRequest;
import dev.tandem.proto.router.v1.RouteResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** The prompt-level policy learns from reviews which inputs the cheap model gets right, and routes per input. */
@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
class PredictionPolicyTests {

    @jakarta.inject.Inject
    dev.tandem.router.learning.QualityLearning learning;

    /** The audit streams the routing rules price reviews with, read before each test (not on the poll's timer). */
    @org.junit.jupiter.api.BeforeEach
    void readAuditStreams() {
        learning.poll();
    }

    private static final List<String> BILLING = List.of("I was charged twice for my subscription this month.",
            "Please refund the duplicate payment on my credit card.", "My invoice shows a fee I never agreed to.",
            "Why was my card billed two times for one order?");
    private static final List<String> GEOMETRY = List.of("A triangle has sides 3, 4 and 5. What is its area?",
            "Find the radius of a circle whose circumference is 31.4 cm.",
            "A rectangle is 7 m by 3 m; what is the length of its diagonal?",
            "What is the volume of a cube with an edge of 4 inches?");

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    private RouteResponse route(String text) {
        return router.route(RouteRequest.newBuilder().setWorkerType("predict-test").putInputs("text", text).build());
    }

    @Test
    void reviewedOutcomesTeachThePolicyWhichInputsTheCheapModelGetsRight() {
        // too few outcomes: pk-weak keeps its prior 0.6, under the 0.7 target, so pk-strong is chosen
        RouteResponse before = route(BILLING.get(0));
        assertThat(before.getDecision().getPolicy()).isEqualTo("prompt-knn");
        assertThat(before.getDecision().getModelId()).isEqualTo("pk-strong");

        for (String text : BILLING) {
            assertThat(review(text, "{\"answer\":\"ok\"}").getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
        }
        for (String text : GEOMETRY) {
            assertThat(review(text, "{\"answer\":\"wrong\"}").getVerdict())
                    .isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);
        }

        RouteResponse billing = route("I think I paid twice for the same order, can you refund one?");
        assertThat(billing.getDecision().getModelId()).isEqualTo("pk-weak");
        Candidate weak = billing.getDecision().getCandidates(0);
        assertThat(weak.getQualitySource()).isEqualTo("predicted");
        assertThat(weak.getQualitySamples()).isEqualTo(3);
        // (3 accepted neighbours + 1 x overall 0.5) / (3 + 1)
        assertThat(weak.getQuality()).isEqualTo(0.875);
        assertThat(billing.getDecision().getExplanation()).startsWith("prompt-knn: pk-weak predicted 0.88 from 3 "
                + "nearest of 8 reviewed (overall 0.50)");

        RouteResponse geometry = route("What is the area of a circle with a radius of 2 m?");
        assertThat(geometry.getDecision().getModelId()).isEqualTo("pk-strong");
        assertThat(geometry.getDecision().getCandidatesList()).filteredOn(c -> c.getModelId().equals("pk-weak"))
                .singleElement().satisfies(c -> assertThat(c.getQuality()).isEqualTo(0.125));
    }

    private dev.tandem.proto.worker.v1.ReviewStepResponse review(String text, String candidate) {
        return router.review(ReviewRequest.newBuilder().setTaskId("t").setStepId("s").setWorkerType("predict-test")
                .putInputs("text", text).setCandidateOutput(candidate).setCandidateModelId("pk-weak").build())
                .getReview();
    }
}
