package dev.tandem.oracle;

import dev.tandem.fakes.FakeRouter;
import dev.tandem.oracle.service.AuditPolicyCache;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditReason;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamPolicy;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The oracle keeps the audit service's policies current through WatchPolicies: what the audit publishes reaches
 * the oracle's cache as it changes, without GetPolicies (the test profile polls never), and a broken watch is
 * started again and brings the full set.
 */
@QuarkusTest
class PolicyWatchTests extends OracleTestBase {

    @Inject
    AuditPolicyCache policies;

    @BeforeEach
    void watching() {
        // an earlier test may have cleared the cache, which subscribes again after the back-off
        eventually(() -> assertThat(policies.watching()).isTrue());
        audit.policyReads.set(0);
    }

    @AfterEach
    void forgetPolicies() {
        policies.clear();
    }

    @Test
    void aPolicyTheAuditPublishesReachesTheOracleWithoutAPoll() {
        assertThat(policies.decide(output("classify", "t/a"))).isEmpty();
        audit.publish(policy("classify", 3, TrustState.TRUST_STATE_NORMAL));

        eventually(() -> assertThat(policies.decide(output("classify", "t/a"))).hasValueSatisfying(
                local -> assertThat(local.decision().getAction()).isEqualTo(AuditAction.AUDIT_ACTION_PASS)));
        var response = oracle().execute(ExecuteRequest.newBuilder()
                .setPlan(TestPlans.plan(TestPlans.classify("a"))).putInputs("document", "hello").build());
        // decided locally and stored in one batch: no Decide, and the policies were never read with GetPolicies
        assertThat(audit.attempts).containsExactly("record:[" + response.getTaskId() + "/a]");
        assertThat(audit.policyReads).hasValue(0);
    }

    @Test
    void aNewPolicyVersionReplacesTheOneHeld() {
        audit.publish(policy("classify", 3, TrustState.TRUST_STATE_NORMAL));
        eventually(() -> assertThat(policies.decide(output("classify", "t/a"))).isPresent());

        // the stream's trust dropped: every output is reviewed from now on
        audit.publish(policy("classify", 4, TrustState.TRUST_STATE_TIGHTENED));
        eventually(() -> assertThat(policies.decide(output("classify", "t/a"))).hasValueSatisfying(local -> {
            assertThat(local.decision().getPolicyVersion()).isEqualTo(4);
            assertThat(local.decision().getAction()).isEqualTo(AuditAction.AUDIT_ACTION_REVIEW);
            assertThat(local.decision().getReason()).isEqualTo(AuditReason.AUDIT_REASON_TIGHTENED);
        }));
        // an older version heard late (out of order) does not replace it
        audit.publish(policy("classify", 2, TrustState.TRUST_STATE_NORMAL));
        audit.publish(policy("validate", 1, TrustState.TRUST_STATE_NORMAL));
        eventually(() -> assertThat(policies.decide(output("validate", "t/b"))).isPresent());
        assertThat(policies.decide(output("classify", "t/a")).orElseThrow().decision().getPolicyVersion())
                .isEqualTo(4);
        assertThat(audit.policyReads).hasValue(0);
    }

    @Test
    void aBrokenWatchIsStartedAgainAndBringsTheFullSet() {
        audit.publish(policy("classify", 3, TrustState.TRUST_STATE_NORMAL));
        eventually(() -> assertThat(policies.decide(output("classify", "t/a"))).isPresent());
        int subscriptions = audit.watchSubscriptions.get();

        audit.breakWatches();
        // published while the oracle is not subscribed: only the next full set carries it
        audit.publish(policy("validate", 5, TrustState.TRUST_STATE_NORMAL));

        eventually(() -> {
            assertThat(audit.watchSubscriptions.get()).isGreaterThan(subscriptions);
            assertThat(policies.watching()).isTrue();
            assertThat(policies.decide(output("validate", "t/b"))).hasValueSatisfying(
                    local -> assertThat(local.decision().getPolicyVersion()).isEqualTo(5));
        });
        // the policy held across the break is still used
        assertThat(policies.decide(output("classify", "t/a"))).isPresent();
        assertThat(audit.policyReads).hasValue(0);
    }

    @Test
    void anAuditServiceWithoutWatchPoliciesIsPolledUntilItOffersIt() {
        audit.watchUnimplemented = true;
        audit.breakWatches();
        eventually(() -> assertThat(policies.polling()).isTrue());
        assertThat(policies.watching()).isFalse();

        // upgraded: the next try (policy-watch-backoff-max) subscribes
        audit.watchUnimplemented = false;
        eventually(() -> {
            assertThat(policies.watching()).isTrue();
            assertThat(policies.polling()).isFalse();
        });
    }

    private static DecideRequest output(String workerType, String decisionId) {
        return DecideRequest.newBuilder().setDecisionId(decisionId).setStream(StreamKey.newBuilder()
                        .setWorkerBackend(FakeRouter.WORKER).setWorkerType(workerType))
                .setConfidence(0.9).setRawConfidence(0.9).setValidationPassed(true).build();
    }

    private static StreamPolicy policy(String workerType, long version, TrustState state) {
        return StreamPolicy.newBuilder().setStream(StreamKey.newBuilder().setWorkerBackend(FakeRouter.WORKER)
                        .setWorkerType(workerType))
                .setPolicyVersion(version).setState(state).setRawConfidenceThreshold(0).setConfidenceThreshold(0)
                .setSamplingRate(0).setBlockingRate(0).setCredibleLevel(0.95).setProbationErrorTarget(0.02)
                .setOutgoingErrorTarget(0.01).build();
    }
}
