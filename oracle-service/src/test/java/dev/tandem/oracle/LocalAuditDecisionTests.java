package dev.tandem.oracle;

import dev.tandem.fakes.FakeRouter;
import dev.tandem.oracle.service.AuditPolicyCache;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamPolicy;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.TaskEvent;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * With the audit's policies published, the oracle decides locally and stores a task's decisions in one batch
 * before the answer; the answer is never released on a decision the ledger does not hold (or, when the audit
 * service cannot store it, without the fail-safe's blocking review).
 */
@QuarkusTest
class LocalAuditDecisionTests extends OracleTestBase {

    @Inject
    AuditPolicyCache policies;

    @AfterEach
    void forgetPolicies() {
        policies.clear();
    }

    @Test
    void theDecisionsOfOutputsNoStepReadsAreStoredInOneBatchBeforeTheAnswer() {
        publishPassingEverything("classify");
        var response = run(TestPlans.plan(TestPlans.classify("a"), TestPlans.classify("b")));

        var a = response.getTaskId() + "/a";
        var b = response.getTaskId() + "/b";
        // one call for the task, no Decide
        assertThat(audit.attempts).hasSize(1).first().asString().startsWith("record:").contains(a, b);
        assertThat(audit.recorded).containsOnlyKeys(a, b);
        assertThat(response.getStepsList()).allSatisfy(s -> {
            assertThat(s.getAudit().getDecision()).isEqualTo("pass");
            assertThat(s.getAudit().getReason()).isEqualTo("trusted");
            assertThat(s.getEscalated()).isFalse();
        });
        assertThat(router.reviews).isEmpty();
        // the router's hold on each step is released once its decision is stored (off the step's path: async)
        eventually(() -> assertThat(router.settled).hasSize(2));
    }

    @Test
    void aDagsDecisionsAreStoredInOneBatchTooUnderSettledPolicies() {
        publishPassingEverything("classify");
        publishPassingEverything("validate");
        settle();
        var response = run(chain());

        var first = response.getTaskId() + "/first";
        var second = response.getTaskId() + "/second";
        assertThat(audit.attempts).hasSize(1).first().asString().contains(first, second);
        assertThat(audit.recorded).containsOnlyKeys(first, second);
        // the dependent read the output as it passed
        assertThat(router.dispatches).filteredOn(d -> d.getStepId().equals("second")).singleElement()
                .satisfies(d -> assertThat(d.getInputsMap().get("candidate"))
                        .isNotEmpty().isEqualTo(response.getSteps(0).getOutput()));
    }

    @Test
    void anOutputAnotherStepReadThatTheAuditReDecidesAndTheReviewRejectsMakesThatStepRunAgainOnTheRedo() {
        publishPassingEverything("classify");
        publishPassingEverything("validate");
        settle();
        audit.redecideAsReview.add("classify");
        router.rejectedSteps.add("first");
        var events = new ArrayList<TaskEvent>();
        oracle().executeStream(ExecuteRequest.newBuilder().setPlan(chain()).putInputs("document", "hello").build())
                .forEachRemaining(events::add);
        var response = events.get(events.size() - 1).getTaskDone().getResponse();

        var first = response.getTaskId() + "/first";
        var second = response.getTaskId() + "/second";
        var rerun = second + "/rerun-1";
        // the batch, the review its re-decision asked for, then the re-run's own decision: the discarded run of
        // "second" is neither reviewed nor released, but its decision is on record
        assertThat(audit.attempts).containsExactly("record:[" + first + ", " + second + "]", "verdict:" + first,
                "record:[" + rerun + "]");
        assertThat(audit.recorded).containsOnlyKeys(first, second, rerun);
        assertThat(router.reviews).extracting(r -> r.getStepId()).containsExactly("first");

        var escalated = response.getSteps(0);
        assertThat(escalated.getAudit().getVerdict()).isEqualTo("rejected");
        assertThat(escalated.getEscalated()).isTrue();
        assertThat(escalated.getRerunReason()).isEmpty();
        // "second" ran twice, the second time on the oracle's redo, and its answer is that run's
        var secondRuns = router.dispatches.stream().filter(d -> d.getStepId().equals("second")).toList();
        assertThat(secondRuns).hasSize(2);
        assertThat(secondRuns.get(0).getInputsMap().get("candidate")).isNotEqualTo(escalated.getOutput());
        assertThat(secondRuns.get(1).getInputsMap().get("candidate")).isEqualTo(escalated.getOutput());
        var rerunStep = response.getSteps(1);
        assertThat(rerunStep.getRerunReason()).contains("'first'", "rejected", "ran again");
        assertThat(rerunStep.getAudit().getDecision()).isEqualTo("pass");
        // both runs were paid for, and the task's cost says so
        assertThat(rerunStep.getCostUsd()).isGreaterThan(0);
        double steps = response.getStepsList().stream().mapToDouble(StepResult::getCostUsd).sum();
        assertThat(response.getCost().getActualUsd()).isCloseTo(steps, within(1e-12));
        assertThat(events).filteredOn(e -> e.hasStepRerun()).singleElement().satisfies(e -> {
            assertThat(e.getStepRerun().getStepId()).isEqualTo("second");
            assertThat(e.getStepRerun().getRejectedStepId()).isEqualTo("first");
        });
        // the re-run's events follow the StepRerun event
        int rerunAt = events.indexOf(events.stream().filter(TaskEvent::hasStepRerun).findFirst().orElseThrow());
        assertThat(events.subList(rerunAt, events.size())).filteredOn(e -> e.hasStepStarted())
                .extracting(e -> e.getStepStarted().getStepId()).containsExactly("second");
    }

    @Test
    void aRerunCostsWhatBothRunsCost() {
        publishPassingEverything("classify");
        publishPassingEverything("validate");
        settle();
        // the same task without the rejection: what one run of each step costs
        var once = run(chain());
        audit.attempts.clear();
        router.dispatches.clear();

        audit.redecideAsReview.add("classify");
        router.rejectedSteps.add("first");
        var twice = run(chain());

        var secondDispatches = router.dispatches.stream().filter(d -> d.getStepId().equals("second")).count();
        assertThat(secondDispatches).isEqualTo(2);
        // what the re-run alone costs: the same step on the redo as its input (same tokens, same price)
        var redoOnly = run(TestPlans.plan(TestPlans.step("second", "validate",
                Map.of("source", "{{inputs.document}}", "candidate", twice.getSteps(0).getOutput()))));
        // the discarded first run (the same inputs as "once"'s) is paid on top of the re-run
        assertThat(twice.getSteps(1).getCostUsd()).isCloseTo(
                once.getSteps(1).getCostUsd() + redoOnly.getSteps(0).getCostUsd(), within(1e-12));
        assertThat(twice.getCost().getActualUsd()).isCloseTo(twice.getSteps(0).getCostUsd()
                + twice.getSteps(1).getCostUsd(), within(1e-12));
    }

    @Test
    void anOutputAnotherStepReadThatTheReviewAcceptsStands() {
        publishPassingEverything("classify");
        publishPassingEverything("validate");
        settle();
        audit.redecideAsReview.add("classify");
        var response = run(chain());

        assertThat(response.getSteps(0).getAudit().getVerdict()).isEqualTo("accepted");
        assertThat(response.getSteps(0).getEscalated()).isFalse();
        assertThat(response.getSteps(1).getAudit().getDecision()).isEqualTo("pass");
    }

    @Test
    void underAPolicyStillChangingAnOutputAnotherStepReadsIsStoredBeforeThatStepRuns() {
        publishPassingEverything("classify");
        publishPassingEverything("validate");
        // just published: not settled yet
        audit.redecideAsReview.add("classify");
        router.rejectedSteps.add("first");
        var response = run(chain());

        var first = response.getTaskId() + "/first";
        var second = response.getTaskId() + "/second";
        // stored (and re-decided, reviewed, escalated) before the dependent ran: it read the escalated output
        assertThat(audit.attempts).containsExactly("record:[" + first + "]", "verdict:" + first,
                "record:[" + second + "]");
        assertThat(response.getSteps(0).getEscalated()).isTrue();
        assertThat(router.dispatches).filteredOn(d -> d.getStepId().equals("second")).last()
                .satisfies(d -> assertThat(d.getInputsMap().get("candidate"))
                        .isEqualTo(response.getSteps(0).getOutput()));
    }

    /** Waits until the published versions count as settled (test profile: policy-stable-for=1s). */
    private void settle() {
        try {
            Thread.sleep(1100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertThat(policies.refresh()).isTrue();
    }

    private static Plan chain() {
        return TestPlans.plan(TestPlans.classify("first"), TestPlans.step("second", "validate",
                Map.of("source", "{{inputs.document}}", "candidate", "{{steps.first.output}}"), "first"));
    }

    @Test
    void aPassTheAuditReDecidesAsAReviewIsReviewedBeforeTheAnswerAndEscalatedWhenRejected() {
        publishPassingEverything("classify");
        audit.redecideAsReview.add("classify");
        router.rejectedSteps.add("a");
        var response = run(TestPlans.plan(TestPlans.classify("a")));

        var id = response.getTaskId() + "/a";
        var step = response.getSteps(0);
        assertThat(step.getAudit().getDecision()).isEqualTo("review");
        assertThat(step.getAudit().getReason()).isEqualTo("outgoing_limit");
        assertThat(step.getAudit().getMode()).isEqualTo("blocking");
        assertThat(step.getAudit().getVerdict()).isEqualTo("rejected");
        assertThat(step.getEscalated()).isTrue();
        assertThat(step.getExecutedBy()).startsWith(FakeRouter.ORACLE);
        assertThat(router.reviews).hasSize(1);
        // the verdict follows the stored decision
        assertThat(audit.calls).containsExactly("record:[" + id + "]", "verdict:" + id);
        // a held output is not settled with the router
        assertThat(router.settled).isEmpty();
    }

    @Test
    void whenTheBatchCannotBeStoredNoOutputIsReleasedWithoutTheFailSafesBlockingReview() {
        publishPassingEverything("classify");
        audit.failRecords.set(100);
        var response = run(TestPlans.plan(TestPlans.classify("a"), TestPlans.classify("b")));

        assertThat(audit.recorded).isEmpty();
        assertThat(response.getStepsList()).allSatisfy(s -> {
            assertThat(s.getAudit().getDecision()).isEqualTo("review");
            assertThat(s.getAudit().getReason()).isEqualTo("audit_unavailable");
            assertThat(s.getAudit().getMode()).isEqualTo("blocking");
            assertThat(s.getAudit().getVerdict()).isEqualTo("accepted");
        });
        assertThat(router.reviews).hasSize(2);
        // the decisions wait for the audit service, each before its verdict, and are delivered by Decide
        assertThat(pending.list()).extracting(r -> r.kind()).containsExactlyInAnyOrder("decision", "verdict",
                "decision", "verdict");
        audit.failRecords.set(0);
        assertThat(auditGateway.reconcile()).isEqualTo(4);
        assertThat(audit.decisions).containsOnlyKeys(response.getTaskId() + "/a", response.getTaskId() + "/b");
    }

    @Test
    void aBatchRetriedAfterItsAnswerWasLostStoresEachDecisionOnce() {
        publishPassingEverything("classify");
        audit.failRecords.set(1);
        audit.failAfterCommit = true;
        var response = run(TestPlans.plan(TestPlans.classify("a")));

        var id = response.getTaskId() + "/a";
        assertThat(audit.attempts).containsExactly("record:[" + id + "]", "record:[" + id + "]");
        assertThat(audit.recorded).containsOnlyKeys(id);
        assertThat(response.getSteps(0).getAudit().getDecision()).isEqualTo("pass");
        assertThat(pending.size()).isZero();
    }

    @Test
    void aStreamWithoutAPublishedPolicyIsDecidedWithDecide() {
        publishPassingEverything("classify");
        var response = run(TestPlans.plan(TestPlans.classify("a"), TestPlans.step("b", "validate",
                Map.of("source", "{{inputs.document}}", "candidate", "x"))));

        var a = response.getTaskId() + "/a";
        var b = response.getTaskId() + "/b";
        assertThat(audit.attempts).containsExactlyInAnyOrder("record:[" + a + "]", "decide:" + b);
    }

    @Test
    void aProbationPolicyIsAReviewHeldAndStoredAtOnce() {
        publish("classify", TrustState.TRUST_STATE_PROBATION, 0.7, 1.0, 1.0);
        var response = run(TestPlans.plan(TestPlans.classify("a")));

        var id = response.getTaskId() + "/a";
        var step = response.getSteps(0);
        assertThat(step.getAudit().getReason()).isEqualTo("probation");
        assertThat(step.getAudit().getVerdict()).isEqualTo("accepted");
        assertThat(audit.calls).containsExactly("record:[" + id + "]", "verdict:" + id);
    }

    private ExecuteResponse run(Plan plan) {
        return oracle().execute(ExecuteRequest.newBuilder().setPlan(plan).putInputs("document", "hello").build());
    }

    private void publishPassingEverything(String workerType) {
        publish(workerType, TrustState.TRUST_STATE_NORMAL, 0.0, 0.0, 0.0);
    }

    private void publish(String workerType, TrustState state, double rawThreshold, double samplingRate,
            double blockingRate) {
        audit.policies.add(StreamPolicy.newBuilder().setStream(StreamKey.newBuilder()
                        .setWorkerBackend(FakeRouter.WORKER).setWorkerType(workerType))
                .setPolicyVersion(3).setState(state).setRawConfidenceThreshold(rawThreshold)
                .setConfidenceThreshold(rawThreshold).setSamplingRate(samplingRate).setBlockingRate(blockingRate)
                .setCredibleLevel(0.95).setProbationErrorTarget(0.02).setOutgoingErrorTarget(0.01).build());
        assertThat(policies.refresh()).isTrue();
    }
}
