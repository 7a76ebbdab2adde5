package dev.tandem.audit.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.rpc.BadRequest;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;

import dev.tandem.audit.LedgerDatabase;
import dev.tandem.calibration.CalibrationMap;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditReason;
import dev.tandem.proto.audit.v1.AuditServiceGrpc.AuditServiceBlockingStub;
import dev.tandem.proto.audit.v1.Calibration;
import dev.tandem.proto.audit.v1.CalibrationKnot;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.DecisionRecord;
import dev.tandem.proto.audit.v1.GetStreamRequest;
import dev.tandem.proto.audit.v1.ListDecisionsRequest;
import dev.tandem.proto.audit.v1.ListStateChangesRequest;
import dev.tandem.proto.audit.v1.ListStreamsRequest;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.RecordVerdictResponse;
import dev.tandem.proto.audit.v1.ReviewMode;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.proto.audit.v1.Verdict;

@QuarkusTest
class AuditGrpcServiceTests {

    static final String BACKEND = "embedded-minilm";

    // No client configuration: in test mode Quarkus points an unconfigured client at the application under test.
    @GrpcClient("audit")
    AuditServiceBlockingStub audit;

    @BeforeEach
    void cleanLedger() throws Exception {
        LedgerDatabase.clean();
    }

    @Test
    void aNewStreamIsInProbationAndEveryOutputIsReviewedBlocking() {
        DecideResponse response = audit.decide(request("t1/classify/1", "classify", 0.99));

        assertThat(response.getDecisionId()).isEqualTo("t1/classify/1");
        assertThat(response.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_REVIEW);
        assertThat(response.getReason()).isEqualTo(AuditReason.AUDIT_REASON_PROBATION);
        assertThat(response.getMode()).isEqualTo(ReviewMode.REVIEW_MODE_BLOCKING);
        assertThat(response.getState()).isEqualTo(TrustState.TRUST_STATE_PROBATION);
        assertThat(response.getSamplingProbability()).isEqualTo(1.0);
        assertThat(response.getConfidenceThreshold()).isEqualTo(0.7);
        assertThat(response.getExplanation()).contains("probation");
        assertThat(response.getReplayed()).isFalse();

        StreamStatus stream = audit.getStream(GetStreamRequest.newBuilder().setWorkerBackend(BACKEND)
                .setWorkerType("classify").build()).getStream();
        assertThat(stream.getState()).isEqualTo(TrustState.TRUST_STATE_PROBATION);
        assertThat(stream.getDecided()).isEqualTo(1);
        assertThat(stream.getSamplingRate()).isEqualTo(1.0);
        assertThat(stream.getStateSince().getSeconds()).isPositive();
    }

    @Test
    @SuppressWarnings("deprecation") // the first v1's three fields, still honoured
    void aStreamNamedByItsKeyIsTheStreamTheFirstV1NamedByThreeFields() {
        // tenants share the stream of tenant "" unless configured otherwise (tandem.audit.streams.tenant-streams)
        StreamKey key = StreamKey.newBuilder().setWorkerBackend(BACKEND).setWorkerType("extract").build();
        audit.decide(DecideRequest.newBuilder().setDecisionId("t1/extract/1").setStream(key).setConfidence(0.9)
                .setRawConfidence(0.9).setValidationPassed(true).build());
        audit.decide(DecideRequest.newBuilder().setDecisionId("t2/extract/1").setWorkerBackend(BACKEND)
                .setWorkerType("extract").setConfidence(0.9).setRawConfidence(0.9)
                .setValidationPassed(true).build());
        // a key wins over the old fields when both are set
        audit.decide(DecideRequest.newBuilder().setDecisionId("t3/extract/1").setStream(key)
                .setWorkerBackend("someone-else").setConfidence(0.9).setRawConfidence(0.9).setValidationPassed(true)
                .build());

        StreamStatus byKey = audit.getStream(GetStreamRequest.newBuilder().setStream(key).build()).getStream();
        StreamStatus byFields = audit.getStream(GetStreamRequest.newBuilder().setWorkerBackend(BACKEND)
                .setWorkerType("extract").build()).getStream();

        assertThat(byKey.getDecided()).isEqualTo(3);
        assertThat(byKey.getKey()).isEqualTo(key);
        // answers carry both forms, so clients of either revision read them
        assertThat(List.of(byKey.getWorkerBackend(), byKey.getWorkerType(), byKey.getTenant()))
                .containsExactly(BACKEND, "extract", "");
        assertThat(byFields).isEqualTo(byKey);
        assertThat(audit.listStreams(ListStreamsRequest.getDefaultInstance()).getStreamsList())
                .extracting(StreamStatus::getKey).containsExactly(key);
        assertThat(audit.listDecisions(ListDecisionsRequest.newBuilder().setStream(key).build()).getDecisionsList())
                .hasSize(3).allSatisfy(d -> assertThat(d.getStream()).isEqualTo(key));
    }

    @Test
    void aTenantWithoutStreamsOfItsOwnIsShownTheSharedStreamItsOutputsAreDecidedIn() {
        audit.decide(request("t1/extract/1", "extract", 0.9).toBuilder().setTenant("acme").build());

        // it was NOT_FOUND, "has no decisions yet", while acme's decision was counted in the shared stream
        StreamStatus acme = audit.getStream(GetStreamRequest.newBuilder().setStream(StreamKey.newBuilder()
                .setWorkerBackend(BACKEND).setWorkerType("extract").setTenant("acme")).build()).getStream();
        assertThat(acme.getKey().getTenant()).isEmpty();
        assertThat(acme.getDecided()).isEqualTo(1);
        io.restassured.RestAssured.given().queryParam("tenant", "acme").when()
                .get("/api/streams/" + BACKEND + "/extract").then().statusCode(200)
                .body("decided", org.hamcrest.Matchers.equalTo(1));
    }

    @Test
    void badDecideInputIsRefusedWithEveryFieldViolation() {
        DecideRequest bad = DecideRequest.newBuilder().setDecisionId(" ").setConfidence(1.5).build();

        assertThatThrownBy(() -> audit.decide(bad))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(fieldViolations(e)).containsExactlyInAnyOrder(
                            "decision_id", "worker_backend", "worker_type", "confidence");
                });
        assertThatThrownBy(() -> audit.decide(request("nan", "classify", Double.NaN)))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(fieldViolations(e)).containsExactly("confidence", "raw_confidence"));
    }

    @Test
    void badVerdictInputIsRefusedWithFieldViolations() {
        assertThatThrownBy(() -> audit.recordVerdict(RecordVerdictRequest.newBuilder().build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(fieldViolations(e)).containsExactlyInAnyOrder("decision_id", "verdict");
                });
    }

    @Test
    void decideIsIdempotentOnTheDecisionId() {
        DecideResponse first = audit.decide(request("t2/extract/1", "extract", 0.4));
        DecideResponse again = audit.decide(request("t2/extract/1", "extract", 0.9));

        assertThat(again.getReplayed()).isTrue();
        assertThat(again.toBuilder().setReplayed(false).build()).isEqualTo(first);
        assertThat(stream("extract").getDecided()).isEqualTo(1);
        assertThat(audit.listDecisions(ListDecisionsRequest.newBuilder().setTaskId("t2").build()).getDecisionsList())
                .singleElement()
                .satisfies(d -> assertThat(d.getConfidence()).isEqualTo(0.4));
    }

    @Test
    void recordVerdictIsIdempotentAndAConflictingVerdictIsRefused() {
        audit.decide(request("t3/summarize/1", "summarize", 0.8));

        RecordVerdictResponse first = audit.recordVerdict(verdict("t3/summarize/1", Verdict.VERDICT_ACCEPTED));
        RecordVerdictResponse again = audit.recordVerdict(verdict("t3/summarize/1", Verdict.VERDICT_ACCEPTED));

        assertThat(first.getDuplicate()).isFalse();
        assertThat(first.getStream().getReviewed()).isEqualTo(1);
        assertThat(first.getStream().getConsecutiveAccepted()).isEqualTo(1);
        assertThat(again.getDuplicate()).isTrue();
        assertThat(again.getStream().getReviewed()).isEqualTo(1);

        assertThatThrownBy(() -> audit.recordVerdict(verdict("t3/summarize/1", Verdict.VERDICT_REJECTED)))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("already has verdict ACCEPTED");
                });
        assertThat(stream("summarize").getRejected()).isZero();
    }

    @Test
    void aVerdictForAnUnknownDecisionIsNotFound() {
        assertThatThrownBy(() -> audit.recordVerdict(verdict("never-decided", Verdict.VERDICT_ACCEPTED)))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> audit.getStream(GetStreamRequest.newBuilder().setWorkerBackend("nope")
                .setWorkerType("classify").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void aStreamEarnsNormalOnEvidenceThenHoldsTheOutgoingErrorWithABlockingSampleUntilCertified() {
        String type = "classify";
        for (int i = 1; i <= 95; i++) {
            String id = "warmup-" + i;
            DecideResponse d = audit.decide(request(id, type, 0.95));
            assertThat(d.getReason()).isEqualTo(AuditReason.AUDIT_REASON_PROBATION);
            StreamStatus s = audit.recordVerdict(verdict(id, Verdict.VERDICT_ACCEPTED)).getStream();
            assertThat(s.getState()).as("after %d accepted reviews", i)
                    .isEqualTo(i < 95 ? TrustState.TRUST_STATE_PROBATION : TrustState.TRUST_STATE_NORMAL);
        }
        StreamStatus normal = stream(type);
        assertThat(normal.getErrorRateUpperBound()).isLessThanOrEqualTo(0.02);
        // the build-up rate: the window holds far fewer than sampling.build-up-samples certification samples
        assertThat(normal.getSamplingRate()).isEqualTo(0.10);
        // 95 clean reviews cannot certify a 1 % outgoing error (that needs about 230), so confident outputs are
        // sampled blocking at b = 1 - α/U until the evidence is there.
        assertThat(normal.getThresholdCertified()).isFalse();
        assertThat(normal.getBlockingSampleRate()).isBetween(0.2, 0.5);
        assertThat(normal.getTargetErrorRate()).isEqualTo(0.01);
        assertThat(normal.getCalibration().getSamples()).isEqualTo(95);

        int passed = 0;
        for (int i = 0; i < 40; i++) {
            DecideResponse d = audit.decide(request("confident-" + i, type, 0.95));
            assertThat(d.getState()).isEqualTo(TrustState.TRUST_STATE_NORMAL);
            assertThat(d.getSamplingProbability()).isEqualTo(normal.getBlockingSampleRate());
            if (d.getAction() == AuditAction.AUDIT_ACTION_PASS) {
                assertThat(d.getReason()).isEqualTo(AuditReason.AUDIT_REASON_TRUSTED);
                passed++;
            } else {
                assertThat(d.getReason()).isEqualTo(AuditReason.AUDIT_REASON_OUTGOING_LIMIT);
                assertThat(d.getMode()).isEqualTo(ReviewMode.REVIEW_MODE_BLOCKING);
            }
        }
        assertThat(passed).isBetween(12, 36);

        DecideResponse unsure = audit.decide(request("unsure", type, 0.35));
        assertThat(unsure.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_REVIEW);
        assertThat(unsure.getReason()).isEqualTo(AuditReason.AUDIT_REASON_LOW_CONFIDENCE);
        assertThat(unsure.getMode()).isEqualTo(ReviewMode.REVIEW_MODE_BLOCKING);
        assertThat(unsure.getRawConfidenceThreshold()).isEqualTo(0.7);

        DecideResponse invalid = audit.decide(request("invalid", type, 0.95).toBuilder()
                .setValidationPassed(false).build());
        assertThat(invalid.getReason()).isEqualTo(AuditReason.AUDIT_REASON_VALIDATION_FAILED);
    }

    @Test
    void aStreamShownBadInProbationIsSuspendedAndTheChangeIsRecorded() throws Exception {
        String type = "validate";
        for (int i = 0; i < 20; i++) {
            audit.decide(request("r" + i, type, 0.9));
            audit.recordVerdict(verdict("r" + i, i % 2 == 0 ? Verdict.VERDICT_REJECTED : Verdict.VERDICT_ACCEPTED));
        }
        StreamStatus s = stream(type);
        assertThat(s.getState()).isEqualTo(TrustState.TRUST_STATE_SUSPENDED);
        assertThat(s.getRejected()).isEqualTo(10);
        DecideResponse next = audit.decide(request("r20", type, 0.99));
        assertThat(next.getReason()).isEqualTo(AuditReason.AUDIT_REASON_TIGHTENED);
        assertThat(next.getMode()).isEqualTo(ReviewMode.REVIEW_MODE_BLOCKING);

        var changes = audit.listStateChanges(ListStateChangesRequest.newBuilder().setWorkerType(type).build())
                .getChangesList();
        assertThat(changes).hasSize(2);
        assertThat(changes.get(0).getFrom()).isEqualTo(TrustState.TRUST_STATE_PROBATION);
        assertThat(changes.get(0).getTo()).isEqualTo(TrustState.TRUST_STATE_SUSPENDED);
        assertThat(changes.get(0).getReason()).contains("shown above 10.0 %");
        assertThat(changes.get(0).getDecisionId()).isEqualTo("r19");
        assertThat(changes.get(1).getFrom()).isEqualTo(TrustState.TRUST_STATE_UNSPECIFIED);
        assertThat(changes.get(1).getTo()).isEqualTo(TrustState.TRUST_STATE_PROBATION);
    }

    @Test
    void decisionsAndVerdictsAreDurableInPostgres() throws Exception {
        DecideRequest request = request("t9/extract/2", "extract", 0.42).toBuilder()
                .setTaskId("t9").setStepId("extract").setTenant("acme").setRawConfidence(0.5).build();
        audit.decide(request);
        audit.recordVerdict(verdict("t9/extract/2", Verdict.VERDICT_REJECTED).toBuilder()
                .setReviewer("embedded-bge-oracle").setReason("wrong field").build());

        try (Connection c = LedgerDatabase.connect(); PreparedStatement ps = c.prepareStatement("""
                SELECT d.task_id, d.step_id, d.request_tenant AS tenant, d.confidence, d.raw_confidence, d.action, d.reason, d.mode,
                       d.state, d.sampling_probability, v.verdict, v.reviewer, v.reason AS why,
                       s.decided, s.reviewed, s.rejected
                FROM decisions d JOIN verdicts v USING (decision_id)
                JOIN streams s USING (worker_backend, worker_type, tenant)
                WHERE d.decision_id = ?""")) {
            ps.setString(1, "t9/extract/2");
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("task_id")).isEqualTo("t9");
                assertThat(rs.getString("step_id")).isEqualTo("extract");
                assertThat(rs.getString("tenant")).isEqualTo("acme");
                assertThat(rs.getDouble("confidence")).isEqualTo(0.42);
                assertThat(rs.getDouble("raw_confidence")).isEqualTo(0.5);
                assertThat(rs.getString("action")).isEqualTo("REVIEW");
                assertThat(rs.getString("reason")).isEqualTo("PROBATION");
                assertThat(rs.getString("mode")).isEqualTo("BLOCKING");
                assertThat(rs.getString("state")).isEqualTo("PROBATION");
                assertThat(rs.getDouble("sampling_probability")).isEqualTo(1.0);
                assertThat(rs.getString("verdict")).isEqualTo("REJECTED");
                assertThat(rs.getString("reviewer")).isEqualTo("embedded-bge-oracle");
                assertThat(rs.getString("why")).isEqualTo("wrong field");
                assertThat(rs.getLong("decided")).isEqualTo(1);
                assertThat(rs.getLong("reviewed")).isEqualTo(1);
                assertThat(rs.getLong("rejected")).isEqualTo(1);
            }
        }
    }

    @Test
    void listDecisionsFiltersNewestFirstAndBoundsThePage() {
        for (int i = 0; i < 5; i++) {
            audit.decide(request("a" + i, "classify", 0.9).toBuilder().setTaskId("task-a").build());
        }
        audit.decide(request("b0", "extract", 0.9).toBuilder().setTaskId("task-b").build());

        var taskA = audit.listDecisions(ListDecisionsRequest.newBuilder().setTaskId("task-a").build());
        assertThat(taskA.getDecisionsList()).extracting(d -> d.getDecisionId())
                .containsExactly("a4", "a3", "a2", "a1", "a0");
        var page = audit.listDecisions(ListDecisionsRequest.newBuilder().setPageSize(2).build());
        assertThat(page.getDecisionsList()).extracting(d -> d.getDecisionId()).containsExactly("b0", "a4");
        var extract = audit.listDecisions(ListDecisionsRequest.newBuilder().setWorkerType("extract").build());
        assertThat(extract.getDecisionsList()).singleElement()
                .satisfies(d -> assertThat(d.getDecidedAt().getSeconds()).isPositive());
        assertThat(audit.listStreams(ListStreamsRequest.getDefaultInstance()).getStreamsList())
                .extracting(StreamStatus::getWorkerType).containsExactly("classify", "extract");
        assertThatThrownBy(() -> audit.listDecisions(ListDecisionsRequest.newBuilder().setPageSize(-1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(fieldViolations(e)).containsExactly("page_size"));
    }

    @Test
    void theLedgerRecordsTheCalibratedConfidenceTheCallerSentElseTheStreamsMapOfTheRawConfidence() {
        String type = "calibrate";
        for (int i = 1; i <= 95; i++) {
            String id = "fit-" + i;
            audit.decide(request(id, type, i % 2 == 0 ? 0.6 : 0.95));
            audit.recordVerdict(verdict(id, Verdict.VERDICT_ACCEPTED));
        }
        Calibration fitted = stream(type).getCalibration();
        assertThat(fitted.getKnotsCount()).isPositive();
        // the published fit, applied by the code the router applies it with
        CalibrationMap published = new CalibrationMap(fitted.getMethod().name(),
                fitted.getKnotsList().stream().mapToDouble(CalibrationKnot::getRaw).toArray(),
                fitted.getKnotsList().stream().mapToDouble(CalibrationKnot::getCalibrated).toArray(),
                fitted.getSamples(), 0, 0, 0, 0, 0, null);

        // a caller that did not calibrate: the stream's map of raw 0.5 (every review accepted: above 0.5)
        DecideResponse byAudit = audit.decide(request("t7/" + type + "/1", type, 0.5).toBuilder().clearConfidence()
                .build());
        // the router's calibration, as the oracle sends it: recorded as sent, not calibrated again
        DecideResponse byRouter = audit.decide(request("t7/" + type + "/2", type, 0.5).toBuilder().setConfidence(0.42)
                .build());

        assertThat(byAudit.getCalibratedConfidence()).isEqualTo(published.apply(0.5)).isGreaterThan(0.5);
        assertThat(byRouter.getCalibratedConfidence()).isEqualTo(0.42);
        assertThat(audit.listDecisions(ListDecisionsRequest.newBuilder().setTaskId("t7").build()).getDecisionsList())
                .extracting(DecisionRecord::getDecisionId, DecisionRecord::getConfidence,
                        DecisionRecord::getRawConfidence)
                .containsExactlyInAnyOrder(tuple("t7/" + type + "/1", published.apply(0.5), 0.5),
                        tuple("t7/" + type + "/2", 0.42, 0.5));
    }

    static DecideRequest request(String decisionId, String workerType, double confidence) {
        return DecideRequest.newBuilder()
                .setDecisionId(decisionId)
                .setTaskId(decisionId.contains("/") ? decisionId.substring(0, decisionId.indexOf('/')) : "")
                .setWorkerBackend(BACKEND)
                .setWorkerType(workerType)
                .setConfidence(confidence)
                .setRawConfidence(confidence)
                .setValidationPassed(true)
                .build();
    }

    static RecordVerdictRequest verdict(String decisionId, Verdict verdict) {
        return RecordVerdictRequest.newBuilder()
                .setDecisionId(decisionId)
                .setVerdict(verdict)
                .setReviewer("embedded-bge-oracle")
                .build();
    }

    static List<String> fieldViolations(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        assertThat(status).as("google.rpc.Status details").isNotNull();
        return status.getDetailsList().stream()
                .filter(any -> any.is(BadRequest.class))
                .flatMap(any -> {
                    try {
                        return any.unpack(BadRequest.class).getFieldViolationsList().stream();
                    } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
                        throw new IllegalStateException(ex);
                    }
                })
                .map(BadRequest.FieldViolation::getField)
                .toList();
    }

    private StreamStatus stream(String type) {
        return audit.getStream(GetStreamRequest.newBuilder().setWorkerBackend(BACKEND).setWorkerType(type).build())
                .getStream();
    }
}
