package dev.tandem.audit.grpc;

import static dev.tandem.audit.grpc.AuditGrpcServiceTests.fieldViolations;
import static dev.tandem.audit.grpc.AuditGrpcServiceTests.request;
import static dev.tandem.audit.grpc.AuditGrpcServiceTests.verdict;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.protobuf.Timestamp;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;

import dev.tandem.audit.LedgerDatabase;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditServiceGrpc.AuditServiceBlockingStub;
import dev.tandem.proto.audit.v1.ClaimReviewTasksRequest;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.GetStreamRequest;
import dev.tandem.proto.audit.v1.ListDecisionsRequest;
import dev.tandem.proto.audit.v1.ListReviewTasksRequest;
import dev.tandem.proto.audit.v1.ListStateChangesRequest;
import dev.tandem.proto.audit.v1.ListStreamsRequest;
import dev.tandem.proto.audit.v1.LocalDecision;
import dev.tandem.proto.audit.v1.RecordDecisionsRequest;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.SubmitReviewRequest;
import dev.tandem.proto.audit.v1.Verdict;
import dev.tandem.proto.worker.v1.LatencyClass;

/**
 * Input any gRPC client may send but the ledger cannot hold (PostgreSQL text has no U+0000; timestamptz and Instant
 * end where google.protobuf.Timestamp does not say): refused as INVALID_ARGUMENT naming the field, not answered as
 * an unavailable ledger that invites endless retries, and never failing other callers' decisions.
 */
@QuarkusTest
class UnstorableInputTests {

    private static final String NUL = "\u0000";

    @GrpcClient("audit")
    AuditServiceBlockingStub audit;

    @BeforeEach
    void cleanLedger() throws Exception {
        LedgerDatabase.clean();
    }

    @Test
    void aNulCharacterInADecisionIsRefusedNamingTheFieldAndNothingIsStored() throws Exception {
        audit.decide(request("existing", "classify", 0.9));
        DecideRequest ok = request("t1/classify/1", "classify", 0.9).toBuilder().setTaskId("t1")
                .setCandidateOutput("{\"label\":\"billing\"}").build();

        invalid(() -> audit.decide(ok.toBuilder().setDecisionId("t1/classify/" + NUL).build()), "decision_id");
        invalid(() -> audit.decide(ok.toBuilder().setWorkerType("classify" + NUL).build()), "worker_type");
        invalid(() -> audit.decide(ok.toBuilder().setTenant("acme" + NUL).build()), "tenant");
        invalid(() -> audit.decide(ok.toBuilder().setTaskId("t1" + NUL).build()), "task_id");
        invalid(() -> audit.decide(ok.toBuilder().setCandidateOutput("{\"label\":\"bil" + NUL + "\"}").build()),
                "candidate_output");
        invalid(() -> audit.decide(ok.toBuilder().setInstructions("be brief" + NUL).build()), "instructions");
        invalid(() -> audit.decide(ok.toBuilder().putInputs("text", "Dear" + NUL).build()), "inputs.text");
        invalid(() -> audit.recordDecisions(RecordDecisionsRequest.newBuilder()
                .addDecisions(LocalDecision.newBuilder().setRequest(ok).setAction(AuditAction.AUDIT_ACTION_REVIEW))
                .addDecisions(LocalDecision.newBuilder().setAction(AuditAction.AUDIT_ACTION_REVIEW).setRequest(
                        ok.toBuilder().setDecisionId("t1/classify/2").setCandidateOutput(NUL)))
                .build()), "decisions[1].request.candidate_output");

        assertThat(LedgerDatabase.storedDecisions("t1/classify/1")).isZero();
        assertThat(audit.listStreams(ListStreamsRequest.getDefaultInstance()).getStreamsList())
                .as("no stream was created for the refused worker type").hasSize(1);
        assertThat(audit.decide(ok).getReplayed()).as("the clean decision is then stored").isFalse();
    }

    @Test
    void aDecisionTheLedgerCannotHoldFailsNoOtherDecisionOfItsGroupCommit() throws Exception {
        audit.decide(request("existing", "classify", 0.9));
        ExecutorService callers = Executors.newFixedThreadPool(16);
        List<CompletableFuture<Object>> calls = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                DecideRequest r = request("g" + i, "classify", 0.9).toBuilder()
                        .setCandidateOutput(i % 20 == 0 ? "{\"label\":\"" + NUL + "\"}" : "{\"label\":\"ok\"}").build();
                calls.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return audit.decide(r).getAction();
                    } catch (StatusRuntimeException e) {
                        return e.getStatus().getCode();
                    }
                }, callers));
            }
            List<Object> results = calls.stream().map(CompletableFuture::join).toList();
            List<String> failedGood = new ArrayList<>();
            for (int i = 0; i < results.size(); i++) {
                if (i % 20 != 0 && !(results.get(i) instanceof AuditAction)) {
                    failedGood.add("g" + i + ": " + results.get(i));
                }
            }
            assertThat(failedGood).as("clean decisions queued with a bad one").isEmpty();
            for (int i = 0; i < results.size(); i += 20) {
                assertThat(results.get(i)).as("g" + i).isEqualTo(Status.Code.INVALID_ARGUMENT);
            }
        } finally {
            callers.shutdownNow();
        }
        assertThat(audit.getStream(GetStreamRequest.newBuilder().setWorkerBackend(AuditGrpcServiceTests.BACKEND)
                .setWorkerType("classify").build()).getStream().getDecided()).isEqualTo(1 + 190);
    }

    @Test
    void aNulCharacterInAVerdictIsRefusedAndTheDecisionStaysOpenForTheCleanOne() {
        audit.decide(request("v1", "classify", 0.9));

        invalid(() -> audit.recordVerdict(verdict("v1", Verdict.VERDICT_REJECTED).toBuilder()
                .setReason("wrong" + NUL).build()), "reason");
        invalid(() -> audit.recordVerdict(verdict("v1", Verdict.VERDICT_REJECTED).toBuilder()
                .setReviewerOutput("{\"label\":\"" + NUL + "\"}").build()), "reviewer_output");
        invalid(() -> audit.recordVerdict(verdict("v1", Verdict.VERDICT_REJECTED).toBuilder()
                .setReviewer("oracle" + NUL).build()), "reviewer");
        invalid(() -> audit.recordVerdict(verdict("v1" + NUL, Verdict.VERDICT_REJECTED)), "decision_id");
        invalid(() -> audit.submitReview(SubmitReviewRequest.newBuilder().setDecisionId("v1").setReviewer("alice")
                .setClaimToken("token" + NUL).setVerdict(Verdict.VERDICT_REJECTED).build()), "claim_token");

        var stored = audit.recordVerdict(verdict("v1", Verdict.VERDICT_ACCEPTED));
        assertThat(stored.getDuplicate()).isFalse();
        assertThat(stored.getStream().getReviewed()).isEqualTo(1);
    }

    @Test
    void aNulCharacterInAQueryOrAClaimIsRefusedNamingTheField() {
        StreamKey key = StreamKey.newBuilder().setWorkerBackend("embedded" + NUL).setWorkerType("classify").build();

        invalid(() -> audit.getStream(GetStreamRequest.newBuilder().setStream(key).build()), "worker_backend");
        invalid(() -> audit.listDecisions(ListDecisionsRequest.newBuilder().setTaskId("t" + NUL).build()), "task_id");
        invalid(() -> audit.listDecisions(ListDecisionsRequest.newBuilder().setStream(key).build()),
                "worker_backend");
        invalid(() -> audit.listStateChanges(ListStateChangesRequest.newBuilder().setStream(key).build()),
                "worker_backend");
        invalid(() -> audit.listReviewTasks(ListReviewTasksRequest.newBuilder().setStream(key).build()),
                "worker_backend");
        invalid(() -> audit.claimReviewTasks(ClaimReviewTasksRequest.newBuilder().setReviewer("alice" + NUL).build()),
                "reviewer");
        invalid(() -> audit.claimReviewTasks(ClaimReviewTasksRequest.newBuilder().setReviewer("alice")
                .setDecisionId("d" + NUL).build()), "decision_id");
    }

    @Test
    void aTimeOutsideTheTimestampRangeIsRefusedNotAnInternalError() throws Exception {
        audit.decide(request("existing", "classify", 0.9));
        DecideRequest batch = request("b1", "classify", 0.9).toBuilder().setCandidateOutput("{}")
                .setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH).build();

        // past what Instant holds
        invalid(() -> audit.decide(batch.toBuilder().setBatchDeadline(Timestamp.newBuilder()
                .setSeconds(Long.MAX_VALUE)).build()), "batch_deadline");
        // an Instant, but a year (318857) past PostgreSQL's timestamptz
        invalid(() -> audit.decide(batch.toBuilder().setBatchDeadline(Timestamp.newBuilder()
                .setSeconds(10_000_000_000_000L)).build()), "batch_deadline");
        invalid(() -> audit.decide(batch.toBuilder().setBatchDeadline(Timestamp.newBuilder()
                .setSeconds(1_800_000_000L).setNanos(-1)).build()), "batch_deadline");
        invalid(() -> audit.recordDecisions(RecordDecisionsRequest.newBuilder()
                .addDecisions(LocalDecision.newBuilder().setRequest(batch).setAction(AuditAction.AUDIT_ACTION_REVIEW)
                        .setRequest(batch.toBuilder().setBatchDeadline(Timestamp.newBuilder()
                                .setSeconds(Long.MIN_VALUE))))
                .build()), "decisions[0].request.batch_deadline");
        invalid(() -> audit.listDecisions(ListDecisionsRequest.newBuilder().setDecidedAfter(Timestamp.newBuilder()
                .setSeconds(Long.MIN_VALUE)).build()), "decided_after");
        invalid(() -> audit.listDecisions(ListDecisionsRequest.newBuilder().setDecidedBefore(Timestamp.newBuilder()
                .setSeconds(10_000_000_000_000L)).build()), "decided_before");

        assertThat(LedgerDatabase.storedDecisions("b1")).isZero();
    }

    @Test
    void aReviewQueueThisVersionDoesNotKnowIsRefusedNotReadAsTheHumanQueue() {
        invalid(() -> audit.claimReviewTasks(ClaimReviewTasksRequest.newBuilder().setReviewer("alice")
                .setQueueValue(9).build()), "queue");
        invalid(() -> audit.listReviewTasks(ListReviewTasksRequest.newBuilder().setQueueValue(9).build()), "queue");
    }

    private static void invalid(Runnable call, String field) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(fieldViolations(e)).containsExactly(field);
        });
    }
}
