package dev.tandem.oracle;

import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.StepResult;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** When the audit service is down every output gets a blocking review, and no decision is lost. */
@QuarkusTest
class AuditFailSafeTests extends OracleTestBase {

    @Test
    void auditDownMeansBlockingReviewsAndTheDecisionsAreReSentLater() {
        audit.down = true;
        router.rejectedSteps.add("summarize");
        var response = oracle().execute(ExecuteRequest.newBuilder().setTask("Summarise this document")
                .putInputs("document", ticket()).build());

        assertThat(response.getStepsList()).allSatisfy(s -> {
            assertThat(s.getAudit().getDecision()).isEqualTo("review");
            assertThat(s.getAudit().getReason()).isEqualTo("audit_unavailable");
            assertThat(s.getAudit().getMode()).isEqualTo("blocking");
            assertThat(s.getAudit().getVerdict()).isIn("accepted", "rejected");
        });
        assertThat(response.getStepsList()).filteredOn(StepResult::getEscalated).extracting(StepResult::getStepId)
                .containsExactly("summarize");
        assertThat(router.reviews).hasSize(2);
        var summarize = response.getTaskId() + "/summarize";
        var validate = response.getTaskId() + "/validate";
        assertThat(pending.list()).extracting(r -> r.kind() + ":" + r.decisionId())
                .containsExactly("decision:" + summarize, "verdict:" + summarize,
                        "decision:" + validate, "verdict:" + validate);

        // still down: nothing is delivered and nothing is lost
        assertThat(auditGateway.reconcile()).isZero();
        assertThat(pending.size()).isEqualTo(4);

        audit.down = false;
        assertThat(auditGateway.reconcile()).isEqualTo(4);
        assertThat(pending.size()).isZero();
        assertThat(audit.calls).containsExactly("decide:" + summarize, "verdict:" + summarize,
                "decide:" + validate, "verdict:" + validate);
        assertThat(audit.verdicts.get(summarize).getVerdict().name()).isEqualTo("VERDICT_REJECTED");
    }

    @Test
    void aRefusedDecisionIsReviewedButNeitherRetriedNorQueuedBehindTheOthers() {
        audit.refuse = Status.Code.INVALID_ARGUMENT;
        var response = oracle().execute(ExecuteRequest.newBuilder().setTask("Summarise this document")
                .putInputs("document", ticket()).build());

        // every output still gets its blocking review
        assertThat(response.getStepsList()).isNotEmpty().allSatisfy(s -> {
            assertThat(s.getAudit().getDecision()).isEqualTo("review");
            assertThat(s.getAudit().getMode()).isEqualTo("blocking");
        });
        // one attempt per decision and per verdict: a refusal is not retried, and nothing waits to be re-sent
        var summarize = response.getTaskId() + "/summarize";
        assertThat(audit.attempts).containsOnlyOnce("decide:" + summarize, "verdict:" + summarize);
        assertThat(audit.attempts).hasSize(2 * response.getStepsCount());
        assertThat(pending.size()).isZero();
    }

    @Test
    void reconciliationDropsRecordsRefusedForGoodAndKeepsTransientlyRefusedOnes() {
        audit.down = true;
        var first = oracle().execute(ExecuteRequest.newBuilder().setTask("Summarise this document")
                .putInputs("document", ticket()).build());
        assertThat(pending.size()).isEqualTo(2 * first.getStepsCount());

        // the queue's first records are refused for good (say a worker type the audit no longer knows)
        audit.down = false;
        audit.refuse = Status.Code.FAILED_PRECONDITION;
        assertThat(auditGateway.reconcile()).isZero();
        assertThat(pending.size()).isZero();

        // a transient refusal keeps the record queued
        audit.refuse = null;
        audit.down = true;
        oracle().execute(ExecuteRequest.newBuilder().setTask("Summarise this document")
                .putInputs("document", ticket()).build());
        int queued = pending.size();
        audit.down = false;
        audit.refuse = Status.Code.RESOURCE_EXHAUSTED;
        assertThat(auditGateway.reconcile()).isZero();
        assertThat(pending.size()).isEqualTo(queued);
        audit.refuse = null;
        assertThat(auditGateway.reconcile()).isEqualTo(queued);
    }
}
