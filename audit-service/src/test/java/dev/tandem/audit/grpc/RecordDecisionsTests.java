package dev.tandem.audit.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;

import dev.tandem.audit.LedgerDatabase;
import dev.tandem.audit.policy.DecisionPolicy;
import dev.tandem.audit.policy.DecisionRule;
import dev.tandem.audit.policy.PolicyDecision;
import dev.tandem.audit.policy.PolicyInput;
import dev.tandem.audit.policy.PolicyState;
import dev.tandem.audit.service.StreamPolicies;
import dev.tandem.calibration.CalibrationMap;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditReason;
import dev.tandem.proto.audit.v1.AuditServiceGrpc.AuditServiceBlockingStub;
import dev.tandem.proto.audit.v1.CalibrationKnot;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.GetPoliciesRequest;
import dev.tandem.proto.audit.v1.GetPoliciesResponse;
import dev.tandem.proto.audit.v1.GetStreamRequest;
import dev.tandem.proto.audit.v1.ListReviewTasksRequest;
import dev.tandem.proto.audit.v1.LocalDecision;
import dev.tandem.proto.audit.v1.RecordDecisionsRequest;
import dev.tandem.proto.audit.v1.RecordedDecision;
import dev.tandem.proto.audit.v1.ReviewMode;
import dev.tandem.proto.audit.v1.ReviewQueue;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamPolicy;

/**
 * The oracle decides locally under the published policies (GetPolicies) with the shared rule and records the
 * decisions in batches (RecordDecisions): those are Decide's decisions, a decision taken under an older policy is
 * re-decided under the current one, and a retried batch counts nothing twice.
 */
@QuarkusTest
class RecordDecisionsTests {

    static final String BACKEND = "embedded-minilm";
    static final String TYPE = "classify";
    static final StreamKey KEY = StreamKey.newBuilder().setWorkerBackend(BACKEND).setWorkerType(TYPE).build();

    @GrpcClient("audit")
    AuditServiceBlockingStub audit;

    @Inject
    StreamPolicies policies;

    @BeforeEach
    void cleanLedger() throws Exception {
        LedgerDatabase.clean();
    }

    @Test
    void decisionsTakenLocallyUnderThePublishedPolicyAreTheDecisionsDecideTakes() throws Exception {
        trustedStream();
        GetPoliciesResponse published = audit.getPolicies(GetPoliciesRequest.getDefaultInstance());
        StreamPolicy policy = published.getPoliciesList().stream().filter(p -> p.getStream().equals(KEY)).findFirst()
                .orElseThrow();
        assertThat(policy.getState().name()).isEqualTo("TRUST_STATE_NORMAL");
        DecisionPolicy rule = asRulePolicy(policy);
        Random random = new Random(16);
        List<String> reasons = new ArrayList<>();
        List<LocalDecision> batch = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            DecideRequest request = output("remote-" + i, random);
            PolicyDecision local = DecisionRule.decide(input(request), rule, published.getSamplingSeed());
            DecideResponse remote = audit.decide(request);
            assertThat(List.of(remote.getAction(), remote.getReason(), remote.getMode()))
                    .as("output %d", i).containsExactly(action(local), reason(local), mode(local));
            assertThat(remote.getSamplingProbability()).isEqualTo(local.samplingProbability());
            assertThat(remote.getExplanation()).isEqualTo(local.explanation());
            reasons.add(remote.getReason().name());

            DecideRequest other = output("local-" + i, random);
            batch.add(local(other, policy.getPolicyVersion(),
                    DecisionRule.decide(input(other), rule, published.getSamplingSeed())));
        }
        // every rule of the policy was exercised
        assertThat(reasons).contains("AUDIT_REASON_TRUSTED", "AUDIT_REASON_LOW_CONFIDENCE",
                "AUDIT_REASON_RANDOM_SAMPLE", "AUDIT_REASON_OUTGOING_LIMIT", "AUDIT_REASON_VALIDATION_FAILED");

        List<RecordedDecision> recorded = audit.recordDecisions(RecordDecisionsRequest.newBuilder()
                .addAllDecisions(batch).build()).getDecisionsList();

        assertThat(recorded).hasSize(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            LocalDecision sent = batch.get(i);
            RecordedDecision stored = recorded.get(i);
            assertThat(stored.getRedecided()).as("decision %d", i).isFalse();
            assertThat(stored.getDecision().getDecisionId()).isEqualTo(sent.getRequest().getDecisionId());
            assertThat(List.of(stored.getDecision().getAction(), stored.getDecision().getReason(),
                    stored.getDecision().getMode())).containsExactly(sent.getAction(), sent.getReason(), sent.getMode());
            assertThat(stored.getDecision().getExplanation())
                    .endsWith("Decided locally by the oracle under policy version " + policy.getPolicyVersion() + ".");
        }
        // counted like Decide's: 800 decisions (and the one that created the stream), shadow samples queued
        assertThat(audit.getStream(GetStreamRequest.newBuilder().setStream(KEY).build()).getStream().getDecided())
                .isEqualTo(801);
        long shadow = batch.stream().filter(d -> d.getMode() == ReviewMode.REVIEW_MODE_SHADOW).count();
        assertThat(shadow).isPositive();
        assertThat(audit.listReviewTasks(ListReviewTasksRequest.newBuilder().setQueue(ReviewQueue.REVIEW_QUEUE_MODEL)
                .setPageSize(1000).build()).getTasksList())
                .filteredOn(t -> t.getDecisionId().startsWith("local-")).hasSize((int) shadow);
    }

    @Test
    void aDecisionTakenUnderAnOlderPolicyIsReDecidedUnderTheCurrentOne() throws Exception {
        trustedStream();
        GetPoliciesResponse published = audit.getPolicies(GetPoliciesRequest.getDefaultInstance());
        StreamPolicy before = published.getPolicies(0);
        DecisionPolicy rule = asRulePolicy(before);
        // a confident output the published policy passes
        DecideRequest request = null;
        PolicyDecision local = null;
        for (int i = 0; local == null || local.review(); i++) {
            request = output("stale-" + i, 0.95);
            local = DecisionRule.decide(input(request), rule, published.getSamplingSeed());
        }
        // meanwhile the stream is tightened (every output reviewed): policy version bumped
        try (Connection c = LedgerDatabase.connect(); var s = c.createStatement()) {
            s.executeUpdate("UPDATE streams SET state = 'TIGHTENED', sampling_rate = 1, "
                    + "policy_version = policy_version + 1");
        }
        // as when this replica tightened it (another replica's change reaches the cache through a batch read-back)
        clearPolicyCache();

        RecordedDecision stored = audit.recordDecisions(RecordDecisionsRequest.newBuilder()
                .addDecisions(local(request, before.getPolicyVersion(), local)).build()).getDecisions(0);

        assertThat(stored.getRedecided()).isTrue();
        assertThat(stored.getPolicyVersion()).isEqualTo(before.getPolicyVersion() + 1);
        assertThat(stored.getDecision().getAction()).isEqualTo(AuditAction.AUDIT_ACTION_REVIEW);
        assertThat(stored.getDecision().getReason()).isEqualTo(AuditReason.AUDIT_REASON_TIGHTENED);
        assertThat(stored.getDecision().getMode()).isEqualTo(ReviewMode.REVIEW_MODE_BLOCKING);
        assertThat(stored.getDecision().getExplanation()).contains("Re-decided by the audit service under policy "
                + "version " + (before.getPolicyVersion() + 1) + " (the oracle had decided pass under version "
                + before.getPolicyVersion() + ")");
    }

    @Test
    void aRetriedBatchStoresEachDecisionOnce() throws Exception {
        trustedStream();
        GetPoliciesResponse published = audit.getPolicies(GetPoliciesRequest.getDefaultInstance());
        StreamPolicy policy = published.getPolicies(0);
        Random random = new Random(7);
        List<LocalDecision> batch = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            DecideRequest request = output("retry-" + i, random);
            batch.add(local(request, policy.getPolicyVersion(),
                    DecisionRule.decide(input(request), asRulePolicy(policy), published.getSamplingSeed())));
        }
        RecordDecisionsRequest request = RecordDecisionsRequest.newBuilder().addAllDecisions(batch).build();
        long before = decided();

        List<RecordedDecision> first = audit.recordDecisions(request).getDecisionsList();
        // the answer was lost: the oracle sends the same batch again
        List<RecordedDecision> again = audit.recordDecisions(request).getDecisionsList();

        assertThat(decided()).isEqualTo(before + 20);
        assertThat(first).noneMatch(d -> d.getDecision().getReplayed());
        assertThat(again).allMatch(d -> d.getDecision().getReplayed());
        for (int i = 0; i < 20; i++) {
            assertThat(again.get(i).getDecision().toBuilder().setReplayed(false).build())
                    .isEqualTo(first.get(i).getDecision());
        }
    }

    @Test
    void aBadBatchIsRefusedWithTheFieldOfEveryViolation() throws Exception {
        trustedStream();
        DecideRequest ok = output("dup", 0.9);
        LocalDecision good = LocalDecision.newBuilder().setRequest(ok).setAction(AuditAction.AUDIT_ACTION_PASS)
                .setReason(AuditReason.AUDIT_REASON_TRUSTED).build();
        LocalDecision noAction = LocalDecision.newBuilder().setRequest(output("x", 0.9).toBuilder().setRawConfidence(2))
                .build();

        assertThatThrownBy(() -> audit.recordDecisions(RecordDecisionsRequest.newBuilder().addDecisions(good)
                .addDecisions(noAction).addDecisions(good).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(AuditGrpcServiceTests.fieldViolations(e)).containsExactlyInAnyOrder(
                            "decisions[1].request.raw_confidence", "decisions[1].action",
                            "decisions[2].request.decision_id");
                });
    }

    /** A stream in NORMAL whose policy uses every rule: threshold, blocking sample, shadow sample. */
    private void trustedStream() throws Exception {
        audit.decide(output("create", 0.9));
        try (Connection c = LedgerDatabase.connect(); var ps = c.prepareStatement("UPDATE streams SET state = "
                + "'NORMAL', sampling_rate = 0.3, raw_threshold = 0.6, confidence_threshold = 0.65, "
                + "blocking_rate = 0.1, threshold_certified = true, policy_version = policy_version + 1")) {
            ps.executeUpdate();
        }
        clearPolicyCache();
    }

    private void clearPolicyCache() {
        policies.clear();
    }

    private long decided() {
        return audit.getStream(GetStreamRequest.newBuilder().setStream(KEY).build()).getStream().getDecided();
    }

    private static DecideRequest output(String id, Random random) {
        DecideRequest r = output(id, 0.3 + 0.7 * random.nextDouble());
        return random.nextInt(10) == 0 ? r.toBuilder().setValidationPassed(false).build() : r;
    }

    private static DecideRequest output(String id, double confidence) {
        return DecideRequest.newBuilder().setDecisionId(id).setTaskId("t").setStepId("s").setStream(KEY)
                .setConfidence(confidence).setRawConfidence(confidence).setValidationPassed(true)
                .setCandidateOutput("{\"label\":\"billing\"}").build();
    }

    private static PolicyInput input(DecideRequest r) {
        return new PolicyInput(r.getDecisionId(), r.hasConfidence() ? r.getConfidence() : null, r.getRawConfidence(),
                r.getValidationPassed());
    }

    private static LocalDecision local(DecideRequest request, long version, PolicyDecision d) {
        return LocalDecision.newBuilder().setRequest(request).setPolicyVersion(version).setDraw(d.draw())
                .setAction(action(d)).setReason(reason(d)).setMode(mode(d)).build();
    }

    /** The published policy as a caller reads it (the oracle's AuditPolicyProtos does the same). */
    static DecisionPolicy asRulePolicy(StreamPolicy p) {
        CalibrationMap map = p.getCalibration().getKnotsCount() == 0 ? null : new CalibrationMap("isotonic",
                p.getCalibration().getKnotsList().stream().mapToDouble(CalibrationKnot::getRaw).toArray(),
                p.getCalibration().getKnotsList().stream().mapToDouble(CalibrationKnot::getCalibrated).toArray(),
                0, 0, 0, 0, 0, 0, null);
        StreamKey k = p.getStream();
        return new DecisionPolicy(k.getWorkerBackend() + "/" + k.getWorkerType()
                + (k.getTenant().isEmpty() ? "" : "@" + k.getTenant()), p.getPolicyVersion(),
                PolicyState.valueOf(p.getState().name().substring("TRUST_STATE_".length())),
                p.getRawConfidenceThreshold(), p.getThresholdCertified(), p.getConfidenceThreshold(),
                p.getSamplingRate(), p.getBlockingRate(), map, p.getCredibleLevel(), p.getProbationErrorTarget(),
                p.getOutgoingErrorTarget());
    }

    private static AuditAction action(PolicyDecision d) {
        return d.review() ? AuditAction.AUDIT_ACTION_REVIEW : AuditAction.AUDIT_ACTION_PASS;
    }

    private static AuditReason reason(PolicyDecision d) {
        return AuditReason.valueOf("AUDIT_REASON_" + d.reason().name());
    }

    private static ReviewMode mode(PolicyDecision d) {
        return d.mode() == PolicyDecision.Mode.NONE ? ReviewMode.REVIEW_MODE_UNSPECIFIED
                : ReviewMode.valueOf("REVIEW_MODE_" + d.mode().name());
    }
}
