package dev.tandem.audit.grpc;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;

import dev.tandem.audit.LedgerDatabase;
import dev.tandem.audit.RouterCallHeaders;
import dev.tandem.audit.client.RouterTaskAffinity;
import dev.tandem.grpc.TaskAffinity;
import io.grpc.netty.NettyChannelBuilder;
import dev.tandem.audit.service.ShadowReviewer;
import dev.tandem.fakes.FakeRouter;
import dev.tandem.fakes.FakeRouterState;
import dev.tandem.proto.audit.v1.AuditServiceGrpc.AuditServiceBlockingStub;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditReason;
import dev.tandem.proto.audit.v1.ClaimReviewTasksRequest;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.GetPoliciesRequest;
import dev.tandem.proto.audit.v1.ListReviewTasksRequest;
import dev.tandem.proto.audit.v1.LocalDecision;
import dev.tandem.proto.audit.v1.RecordDecisionsRequest;
import dev.tandem.proto.audit.v1.ReviewMode;
import dev.tandem.proto.audit.v1.ReviewQueue;
import dev.tandem.proto.audit.v1.ReviewTask;
import dev.tandem.proto.audit.v1.SubmitReviewRequest;
import dev.tandem.proto.audit.v1.Verdict;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.worker.v1.LatencyClass;
import com.google.protobuf.Timestamp;

/** The durable review queue: shadow reviews by the model through the router, the human queue, export. */
@QuarkusTest
class ReviewQueueTests {

    static final String BACKEND = "embedded-minilm";

    @GrpcClient("audit")
    AuditServiceBlockingStub audit;

    @Inject
    ShadowReviewer shadowReviewer;

    @Inject
    FakeRouterState fakeRouter;

    @Inject
    RouterCallHeaders routerCallHeaders;

    @Inject
    RouterTaskAffinity routerTaskAffinity;

    @BeforeAll
    static void logFailures() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }

    @BeforeEach
    void cleanLedger() throws Exception {
        LedgerDatabase.clean();
        fakeRouter.reset();
        fakeRouter.reviewAnswer = FakeRouter::acceptUnlessWrong;
        routerCallHeaders.taskHeaderByTask.clear();
    }

    @Test
    void shadowDecisionsAreQueuedAndTheShadowReviewerRecordsTheRoutersVerdicts() throws Exception {
        String type = "classify";
        normalStream(type);
        DecideResponse ok = audit.decide(withPayload("t1/classify/1", type, "{\"label\":\"billing\"}"));
        DecideResponse wrong = audit.decide(withPayload("t2/classify/1", type, "{\"label\":\"wrong\"}"));
        assertThat(ok.getMode()).isEqualTo(ReviewMode.REVIEW_MODE_SHADOW);
        assertThat(wrong.getMode()).isEqualTo(ReviewMode.REVIEW_MODE_SHADOW);
        assertThat(count("SELECT count(*) FROM review_tasks WHERE queue = 'MODEL'")).isEqualTo(2);

        int[] result = shadowReviewer.runOnce();

        assertThat(result).containsExactly(2, 0);
        assertThat(count("SELECT count(*) FROM review_tasks")).as("done tasks leave the queue").isZero();
        assertThat(fakeRouter.reviews).hasSize(2);
        ReviewRequest sent = fakeRouter.reviews.stream().filter(r -> r.getTaskId().equals("t1")).findFirst()
                .orElseThrow();
        assertThat(sent.getWorkerType()).isEqualTo(type);
        assertThat(sent.getCandidateModelId()).isEqualTo(BACKEND);
        assertThat(sent.getCandidateOutput()).isEqualTo("{\"label\":\"billing\"}");
        assertThat(sent.getInputsMap()).containsEntry("document", "charged twice");
        assertThat(sent.getInstructions()).isEqualTo("classify the ticket");
        assertThat(sent.getTenant()).isEqualTo("acme");
        try (Connection c = LedgerDatabase.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT verdict, reviewer, reviewer_output FROM verdicts WHERE decision_id = ?")) {
            ps.setString(1, "t2/classify/1");
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("REJECTED");
                assertThat(rs.getString(2)).isEqualTo("fake-oracle");
                assertThat(rs.getString(3)).isEqualTo("{\"label\":\"right\"}");
            }
        }
        assertThat(shadowReviewer.runOnce()).as("nothing reviewed twice").containsExactly(0, 0);
        assertThat(fakeRouter.reviews).hasSize(2);
    }

    @Test
    void theShadowReviewOfABatchClassStepGoesOutAsABatchClassReviewWithoutHoldingUpTheOthers() throws Exception {
        String type = "classify";
        normalStream(type);
        Instant window = Instant.now().plus(Duration.ofHours(6)).truncatedTo(ChronoUnit.MILLIS);
        Timestamp windowEnd = timestamp(window);
        assertThat(audit.decide(withPayload("night/classify/1", type, "{\"label\":\"billing\"}").toBuilder()
                .setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH).setBatchDeadline(windowEnd).build()).getMode())
                .isEqualTo(ReviewMode.REVIEW_MODE_SHADOW);
        assertThat(audit.decide(withPayload("day/classify/1", type, "{\"label\":\"billing\"}")).getMode())
                .isEqualTo(ReviewMode.REVIEW_MODE_SHADOW);
        // the batch-class review waits for its provider batch (here until the test lets it answer)
        CountDownLatch batchDone = new CountDownLatch(1);
        fakeRouter.reviewAnswer = r -> {
            if (r.getLatencyClass() == LatencyClass.LATENCY_CLASS_BATCH) {
                try {
                    batchDone.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return FakeRouter.acceptUnlessWrong(r);
        };

        // the interactive review is recorded without waiting for the batch-class one
        assertThat(shadowReviewer.runOnce()).containsExactly(1, 0);
        ReviewRequest batch = awaitReview("night");
        ReviewRequest interactive = awaitReview("day");
        assertThat(batch.getLatencyClass()).isEqualTo(LatencyClass.LATENCY_CLASS_BATCH);
        assertThat(batch.getBatchDeadline()).isEqualTo(windowEnd);
        assertThat(batch.getIdempotencyKey()).isEqualTo("night/classify/1/shadow-review");
        assertThat(interactive.getLatencyClass()).isEqualTo(LatencyClass.LATENCY_CLASS_UNSPECIFIED);
        assertThat(interactive.getIdempotencyKey()).isEmpty();
        // the keyed review goes to its task's router replica (and a repeat after a failed wait with it); the
        // interactive one to any
        assertThat(routerCallHeaders.taskHeaderByTask).containsEntry("night",
                TaskAffinity.of("acme", "night")).containsEntry("day", "");
        // while it waits no other claim takes it: held to the end of its batch window
        assertThat(shadowReviewer.runOnce()).containsExactly(0, 0);
        try (Connection c = LedgerDatabase.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT lease_until FROM review_tasks WHERE decision_id = 'night/classify/1'");
                ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getTimestamp(1).toInstant()).isAfter(window);
        }

        batchDone.countDown();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (count("SELECT count(*) FROM verdicts WHERE decision_id = 'night/classify/1'") == 0) {
            assertThat(System.nanoTime()).as("the batch-class review's verdict recorded").isLessThan(until);
            Thread.sleep(50);
        }
        assertThat(count("SELECT count(*) FROM review_tasks")).isZero();
        assertThat(fakeRouter.reviews).hasSize(2);
    }

    @Test
    void aDrainStopsSendingBatchClassReviewsAtItsLimitOfCallsWaitingForTheirBatch() throws Exception {
        String type = "classify";
        normalStream(type);
        Timestamp windowEnd = timestamp(Instant.now().plus(Duration.ofHours(6)));
        for (int i = 1; i <= 40; i++) {
            assertThat(audit.decide(withPayload("n" + i + "/classify/1", type, "{\"label\":\"billing\"}").toBuilder()
                    .setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH).setBatchDeadline(windowEnd).build())
                    .getMode()).isEqualTo(ReviewMode.REVIEW_MODE_SHADOW);
        }
        CountDownLatch batchDone = reviewerAnswersWhenOpened();
        try {
            // claims of 16: after the second, 32 calls wait for their batch, past the limit (20 in %test)
            assertThat(shadowReviewer.drain()).containsExactly(0, 0);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (fakeRouter.reviews.size() < 32 && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertThat(fakeRouter.reviews).hasSize(32);
            assertThat(count("SELECT count(*) FROM review_tasks WHERE lease_until IS NULL")).isEqualTo(8);
        } finally {
            batchDone.countDown();
        }
        // the next test truncates the ledger: every verdict recorded first
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (count("SELECT count(*) FROM verdicts") < 32) {
            assertThat(System.nanoTime()).as("the batch-class reviews' verdicts recorded").isLessThan(until);
            Thread.sleep(50);
        }
    }

    @Test
    void theRouterClientBalancesByTask() {
        // what Quarkus' channel factory asks the customizer for the "router" client (task affinity on by default)
        assertThat(routerTaskAffinity.customize("router", null, NettyChannelBuilder.forTarget("dns:///router:8081")))
                .isEqualTo(TaskAffinity.serviceConfig());
    }

    @Test
    void aBatchClassStepWhoseWindowHasEndedIsReviewedAsAnInteractiveOne() throws Exception {
        String type = "classify";
        normalStream(type);
        Instant past = Instant.now().minus(Duration.ofMinutes(1));
        audit.decide(withPayload("late/classify/1", type, "{\"label\":\"billing\"}").toBuilder()
                .setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH)
                .setBatchDeadline(Timestamp.newBuilder().setSeconds(past.getEpochSecond())).build());

        assertThat(shadowReviewer.runOnce()).containsExactly(1, 0);
        assertThat(fakeRouter.reviews).singleElement()
                .satisfies(r -> assertThat(r.getLatencyClass()).isEqualTo(LatencyClass.LATENCY_CLASS_UNSPECIFIED));
    }

    /** The review the fake router received for a task (waits for it, bounded). */
    private ReviewRequest awaitReview(String taskId) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            var sent = fakeRouter.reviews.stream().filter(r -> r.getTaskId().equals(taskId)).findFirst();
            if (sent.isPresent()) {
                return sent.get();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no review of " + taskId + " reached the router");
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    /** Every review waits at the fake router until the returned latch is opened (at most 30 s), then is judged. */
    private CountDownLatch reviewerAnswersWhenOpened() {
        CountDownLatch open = new CountDownLatch(1);
        fakeRouter.reviewAnswer = r -> {
            try {
                open.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return FakeRouter.acceptUnlessWrong(r);
        };
        return open;
    }

    /** A NORMAL stream of {@code type} with {@code n} sampled outputs waiting in the model queue. */
    private void shadowBacklog(String type, String taskPrefix, int n) throws Exception {
        normalStream(type);
        for (int i = 1; i <= n; i++) {
            assertThat(audit.decide(withPayload(taskPrefix + i + "/" + type + "/1", type, "{\"label\":\"billing\"}"))
                    .getMode()).isEqualTo(ReviewMode.REVIEW_MODE_SHADOW);
        }
    }

    @Test
    void aShadowReviewBacklogDoesNotHoldUpForegroundDecisionsOrVerdicts() throws Exception {
        String type = "classify";
        // a backlog larger than one claim (shadow-batch 16), every review stuck at the reviewer
        shadowBacklog(type, "b", 40);
        CountDownLatch reviewerAnswers = reviewerAnswersWhenOpened();
        CompletableFuture<int[]> shadowRun = CompletableFuture.supplyAsync(shadowReviewer::runOnce);
        try {
            // the shadow reviewer holds every slot it has (shadow-concurrency 4), each waiting for the reviewer
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (fakeRouter.reviews.size() < 4 && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertThat(fakeRouter.reviews).hasSize(4);

            // the foreground answers meanwhile: Decide (a blocking review and a shadow sample), a batch of local
            // decisions, a verdict; each under a deadline, so a held-up call fails instead of hanging the test
            var foreground = audit.withDeadlineAfter(10, TimeUnit.SECONDS);
            DecideResponse low = foreground.decide(AuditGrpcServiceTests.request("f1/classify/1", type, 0.2));
            assertThat(low.getMode()).isEqualTo(ReviewMode.REVIEW_MODE_BLOCKING);
            assertThat(foreground.decide(withPayload("f2/classify/1", type, "{\"label\":\"billing\"}")).getMode())
                    .isEqualTo(ReviewMode.REVIEW_MODE_SHADOW);
            assertThat(foreground.recordVerdict(AuditGrpcServiceTests.verdict("f1/classify/1",
                    Verdict.VERDICT_ACCEPTED)).getDuplicate()).isFalse();
            var policy = foreground.getPolicies(GetPoliciesRequest.getDefaultInstance()).getPolicies(0);
            var batch = RecordDecisionsRequest.newBuilder();
            for (int i = 1; i <= 5; i++) {
                var request = AuditGrpcServiceTests.request("f3-" + i + "/classify/1", type, 0.2);
                batch.addDecisions(LocalDecision.newBuilder().setRequest(request)
                        .setPolicyVersion(policy.getPolicyVersion()).setAction(AuditAction.AUDIT_ACTION_REVIEW)
                        .setReason(AuditReason.AUDIT_REASON_LOW_CONFIDENCE).setMode(ReviewMode.REVIEW_MODE_BLOCKING));
            }
            assertThat(foreground.recordDecisions(batch.build()).getDecisionsList()).hasSize(5);

            // ... all while the shadow reviews were still stuck and the backlog still there
            assertThat(shadowRun).isNotDone();
            assertThat(fakeRouter.reviews).hasSize(4);
            assertThat(count("SELECT count(*) FROM review_tasks WHERE queue = 'MODEL'")).isGreaterThanOrEqualTo(40);
        } finally {
            reviewerAnswers.countDown();
            // the next test truncates the ledger: the reviews must have been recorded before
            shadowRun.exceptionally(e -> null).get(30, TimeUnit.SECONDS);
        }
        assertThat(shadowRun.get()).containsExactly(16, 0);
    }

    @Test
    void oneTickDrainsABacklogLargerThanOneClaimAndAFailingReviewerEndsIt() throws Exception {
        // 40 sampled outputs: more than one claim (shadow-batch 16) holds; a tick used to review one claim only
        shadowBacklog("classify", "d", 40);
        fakeRouter.reviewAnswer = r -> {
            throw Status.UNAVAILABLE.withDescription("router down").asRuntimeException();
        };
        assertThat(shadowReviewer.drain()).as("a failing claim ends the tick").containsExactly(0, 16);
        assertThat(count("SELECT count(*) FROM review_tasks WHERE queue = 'MODEL'")).as("none lost").isEqualTo(40);

        fakeRouter.reviews.clear();
        fakeRouter.reviewAnswer = FakeRouter::acceptUnlessWrong;
        // the whole backlog in one tick (%test: no back-off, so the 16 failed ones are due again)
        assertThat(shadowReviewer.drain()).containsExactly(40, 0);
        assertThat(fakeRouter.reviews).hasSize(40);
        assertThat(count("SELECT count(*) FROM review_tasks WHERE queue = 'MODEL'")).isZero();
        assertThat(count("SELECT count(*) FROM verdicts")).isEqualTo(40);
    }

    @Test
    void aFailingShadowReviewIsRetriedThenMovesToThePeoplesQueueNeverLost() throws Exception {
        String type = "extract";
        normalStream(type);
        audit.decide(withPayload("t3/extract/1", type, "{}"));
        fakeRouter.reviewAnswer = r -> {
            throw Status.UNAVAILABLE.withDescription("router down").asRuntimeException();
        };

        assertThat(shadowReviewer.runOnce()).containsExactly(0, 1);
        assertThat(count("SELECT count(*) FROM review_tasks WHERE queue = 'MODEL'")).isEqualTo(1);
        assertThat(shadowReviewer.runOnce()).containsExactly(0, 1);

        List<ReviewTask> human = audit.listReviewTasks(ListReviewTasksRequest.newBuilder()
                .setQueue(ReviewQueue.REVIEW_QUEUE_HUMAN).build()).getTasksList();
        assertThat(human).singleElement().satisfies(t -> {
            assertThat(t.getDecisionId()).isEqualTo("t3/extract/1");
            assertThat(t.getAttempts()).isEqualTo(2);
            assertThat(t.getLastError()).contains("router down");
            assertThat(t.getCandidateOutput()).isEqualTo("{}");
        });
    }

    @Test
    void aLeaseExpiresBackToTheQueueAndOnlyTheHolderMaySubmit() throws Exception {
        String type = "summarize";
        normalStream(type);
        // no candidate output sent: the model cannot review it, so it goes to people
        audit.decide(AuditGrpcServiceTests.request("t4/summarize/1", type, 0.9));
        // a lease no busy machine can outlast; its expiry is then brought forward in the ledger rather than slept
        ClaimReviewTasksRequest claim = ClaimReviewTasksRequest.newBuilder().setQueue(ReviewQueue.REVIEW_QUEUE_HUMAN)
                .setReviewer("alice").setLeaseSeconds(600).build();
        Instant before = Instant.now();
        ReviewTask alice = audit.claimReviewTasks(claim).getTasks(0);
        Instant after = Instant.now();
        assertThat(alice.getLastError()).contains("no candidate output");
        Instant leaseEnds = Instant.ofEpochSecond(alice.getLeaseExpiresAt().getSeconds(),
                alice.getLeaseExpiresAt().getNanos());
        assertThat(leaseEnds).as("the lease lasts what was asked").isBetween(before.plusSeconds(599),
                after.plusSeconds(601));
        assertThat(audit.claimReviewTasks(claim.toBuilder().setReviewer("bob").build()).getTasksList())
                .as("claimed tasks are skipped").isEmpty();

        assertThat(execute("UPDATE review_tasks SET lease_until = lease_until - interval '600 seconds' "
                + "WHERE decision_id = 't4/summarize/1'")).as("the lease, 600 s on").isEqualTo(1);
        ReviewTask bob = audit.claimReviewTasks(claim.toBuilder().setReviewer("bob").setLeaseSeconds(60).build())
                .getTasks(0);
        assertThat(bob.getClaimToken()).isNotEqualTo(alice.getClaimToken());
        assertThat(bob.getAttempts()).isEqualTo(2);

        SubmitReviewRequest aliceVerdict = SubmitReviewRequest.newBuilder().setDecisionId("t4/summarize/1")
                .setClaimToken(alice.getClaimToken()).setVerdict(Verdict.VERDICT_ACCEPTED).setReviewer("alice").build();
        assertThatThrownBy(() -> audit.submitReview(aliceVerdict)).isInstanceOfSatisfying(
                StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("claimed by bob");
                });
        var stored = audit.submitReview(aliceVerdict.toBuilder().setClaimToken(bob.getClaimToken())
                .setReviewer("bob").build());
        assertThat(stored.getDuplicate()).isFalse();
        assertThat(stored.getStream().getReviewed()).isEqualTo(1);
        assertThat(audit.submitReview(aliceVerdict).getDuplicate()).as("the task is done; the same verdict is a retry")
                .isTrue();
        assertThat(count("SELECT count(*) FROM review_tasks")).isZero();
    }

    @Test
    void peopleWorkTheQueueOverHttpAndTracesExportAsJsonLines() throws Exception {
        String type = "classify";
        normalStream(type);
        audit.decide(withPayload("t5/classify/1", type, "{\"label\":\"wrong\"}").toBuilder()
                .setCandidateOutput("").build());
        audit.decide(withPayload("t6/classify/1", type, "{\"label\":\"billing\"}"));
        shadowReviewer.runOnce(); // t6 accepted by the model

        given().queryParam("queue", "human").when().get("/api/review-tasks").then().statusCode(200)
                .body("$", hasSize(1)).body("[0].decisionId", equalTo("t5/classify/1"));
        String token = given().contentType(ContentType.JSON).body(Map.of("reviewer", "carol", "max_tasks", 5))
                .when().post("/api/review-tasks/claim").then().statusCode(200)
                .body("$", hasSize(1)).extract().path("[0].claimToken");
        given().contentType(ContentType.JSON).body(Map.of("decision_id", "t5/classify/1", "claim_token", token,
                "verdict", "REJECTED", "reviewer", "carol", "reason", "wrong queue",
                "reviewer_output", "{\"label\":\"refund\"}"))
                .when().post("/api/review-tasks/verdict").then().statusCode(200).body("duplicate", equalTo(false))
                .body("stream.reviewed", equalTo(2));
        given().contentType(ContentType.JSON).body(Map.of("decision_id", "t5/classify/1", "claim_token", token,
                "verdict", "ACCEPTED", "reviewer", "carol"))
                .when().post("/api/review-tasks/verdict").then().statusCode(409);
        given().queryParam("queue", "human").when().get("/api/review-tasks").then().statusCode(200)
                .body("$", hasSize(0));
        given().contentType(ContentType.JSON).body(Map.of("max_tasks", 1)).when().post("/api/review-tasks/claim")
                .then().statusCode(400).body("violations[0].field", equalTo("reviewer"));

        String rejected = given().queryParam("verdict", "rejected").queryParam("worker_type", type)
                .when().get("/api/export/traces").then().statusCode(200)
                .contentType("application/x-ndjson").extract().asString();
        assertThat(rejected.lines().toList()).singleElement().satisfies(line -> assertThat(line)
                .contains("\"decision_id\":\"t5/classify/1\"").contains("\"reviewer_output\":\"{\\\"label\\\":\\\"refund\\\"}\"")
                .contains("\"tenant\":\"acme\"").contains("\"inputs\":{\"document\":\"charged twice\"}"));
        String accepted = given().queryParam("verdict", "accepted").when().get("/api/export/traces").then()
                .statusCode(200).extract().asString();
        assertThat(accepted.lines().toList()).singleElement().satisfies(line -> assertThat(line)
                .contains("\"decision_id\":\"t6/classify/1\"").contains("\"output\":\"{\\\"label\\\":\\\"billing\\\"}\""));
        assertThat(given().queryParam("verdict", "accepted").queryParam("since", "2999-01-01T00:00:00Z").when()
                .get("/api/export/traces").then().statusCode(200).extract().asString()).isEmpty();
        given().queryParam("verdict", "maybe").when().get("/api/export/traces").then().statusCode(400);
    }

    private void normalStream(String type) throws Exception {
        audit.decide(AuditGrpcServiceTests.request("seed-" + type, type, 0.9)); // creates the stream
        LedgerDatabase.makeNormal(BACKEND, type, 1.0, 0.5); // every confident output sampled
    }

    static DecideRequest withPayload(String id, String type, String output) {
        return AuditGrpcServiceTests.request(id, type, 0.9).toBuilder().setTenant("acme")
                .putInputs("document", "charged twice").setCandidateOutput(output)
                .setInstructions(type.equals("classify") ? "classify the ticket" : "").build();
    }

    private static int execute(String sql) throws Exception {
        try (Connection c = LedgerDatabase.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            return ps.executeUpdate();
        }
    }

    private static long count(String sql) throws Exception {
        try (Connection c = LedgerDatabase.connect(); PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
