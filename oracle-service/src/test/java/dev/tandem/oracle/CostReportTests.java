package dev.tandem.oracle;

import dev.tandem.fakes.FakeRouter;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.StepResult;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

/** What a task's cost report says: actual against all-oracle, and the part spent on earning trust. */
@QuarkusTest
class CostReportTests extends OracleTestBase {

    private static ExecuteRequest summary() {
        return ExecuteRequest.newBuilder().setTask("Summarise this document").putInputs("document", ticket()).build();
    }

    @Test
    void theOracleDoesNotReviewItsOwnOutput() {
        router.failingWorkerTypes.add("summarize"); // the step ends up on the oracle tier
        var response = oracle().execute(summary());

        StepResult summarize = response.getSteps(0);
        assertThat(summarize.getExecutedBy()).startsWith(FakeRouter.ORACLE);
        assertThat(summarize.getAudit().getDecision()).isEqualTo("pass");
        assertThat(summarize.getAudit().getReason()).isEqualTo("oracle_output");
        assertThat(summarize.getAudit().getTrustState()).isEqualTo("oracle");
        assertThat(audit.decisions).doesNotContainKey(response.getTaskId() + "/summarize");
        assertThat(router.reviews).isEmpty();
    }

    @Test
    void aStepRunByAStreamEarningTrustReportsWhatItCostOverTheOracleAsExploration() {
        router.earningTrust.add("summarize");
        audit.actions.put("summarize", AuditAction.AUDIT_ACTION_REVIEW); // probation: every output reviewed
        router.rejectedSteps.add("summarize"); // rejected without the reviewer's answer: redone on the oracle
        router.reviewerAnswers = false;
        // one step, planned by the client (no planning cost): the task's excess over all-oracle is the step's
        var response = oracle().execute(summary().toBuilder().setPlan(TestPlans.plan(TestPlans.step("summarize",
                "summarize", java.util.Map.of("text", "{{inputs.document}}")))).build());

        var cost = response.getCost();
        StepResult summarize = response.getSteps(0);
        assertThat(summarize.getAudit().getDecision()).isEqualTo("review");
        assertThat(summarize.getEscalated()).isTrue();
        // worker + a review + the oracle's redo: more than the oracle alone, and exactly that excess is exploration
        assertThat(cost.getActualUsd()).isGreaterThan(cost.getAllOracleUsd());
        assertThat(cost.getExplorationUsd()).isCloseTo(cost.getActualUsd() - cost.getAllOracleUsd(), within(1e-12));
    }

    @Test
    void aTrustedStreamSpendsNothingOnExploration() {
        var response = oracle().execute(summary());

        assertThat(response.getCost().getExplorationUsd()).isZero();
        assertThat(response.getCost().getActualUsd()).isLessThan(response.getCost().getAllOracleUsd());
    }

    @Test
    void theRequestsErrorTargetReachesTheRouterAndABadOneIsRefused() {
        oracle().execute(summary().toBuilder().setMaxErrorRate(0.005).build());
        assertThat(router.dispatches).allSatisfy(d ->
                assertThat(d.getRequirements().getMaxErrorRate()).isEqualTo(0.005));

        var e = catchThrowableOfType(StatusRuntimeException.class,
                () -> oracle().execute(summary().toBuilder().setMaxErrorRate(1.5).build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(TestPlans.violations(e)).containsKey("max_error_rate");
    }
}
