package dev.tandem.oracle;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.fakes.FakeRouter;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.ReviewMode;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.proto.router.v1.Tier;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Running tasks: parallel steps, review and escalation, cost, the event stream, failures and deadlines. */
@QuarkusTest
class TaskExecutionTests extends OracleTestBase {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static Map<String, StepResult> byStep(ExecuteResponse response) {
        return response.getStepsList().stream().collect(Collectors.toMap(StepResult::getStepId, Function.identity()));
    }

    @Test
    void aTriageTicketRunsTheTriagePipelineWithItsIndependentStepsInParallel() throws Exception {
        router.rendezvous = 3; // the fake holds each dispatch until three are in flight at once
        var response = oracle().execute(triage());

        assertThat(router.maxInFlight.get()).as("classify, extract and summarize overlap").isGreaterThanOrEqualTo(3);
        assertThat(response.getPlan().getPipeline()).isEqualTo("document-triage");
        assertThat(response.getPlan().getPlanner()).isEqualTo("embedded-catalog");
        assertThat(response.getPlan().getRationale()).contains("document-triage").contains("similarity");
        assertThat(response.getStepsList()).extracting(StepResult::getStepId)
                .containsExactly("classify", "extract", "summarize", "validate-extract", "validate-summary");
        assertThat(response.getStepsList()).allSatisfy(s -> {
            assertThat(s.getExecutedBy()).isEqualTo(FakeRouter.WORKER + "@" + FakeRouter.POOL);
            assertThat(s.getConfidence()).isEqualTo(0.9);
            assertThat(s.getAudit().getDecision()).isEqualTo("pass");
            assertThat(s.getAudit().getReason()).isEqualTo("trusted");
            assertThat(s.getEscalated()).isFalse();
            assertThat(s.getRouting()).startsWith("fake:");
            assertThat(s.getCostUsd()).isPositive();
        });
        // inputs were substituted, and the validate step got the extract step's accepted output
        var extractDispatch = router.dispatches.stream().filter(d -> d.getStepId().equals("extract")).findFirst()
                .orElseThrow();
        assertThat(extractDispatch.getInputsMap()).containsEntry("text", ticket())
                .containsEntry("fields", "email,order_id,amount,date");
        assertThat(extractDispatch.getRequirements().getCapabilitiesList()).containsExactly("json_schema");
        var validate = router.dispatches.stream().filter(d -> d.getStepId().equals("validate-extract"))
                .findFirst().orElseThrow();
        assertThat(validate.getInputsMap().get("candidate")).isEqualTo(byStep(response).get("extract").getOutput());

        // the answer merges the accepted outputs by step id
        var answer = JSON.readTree(response.getOutput());
        assertThat(answer.get("pipeline").asText()).isEqualTo("document-triage");
        assertThat(answer.get("task").asText()).isEqualTo("Triage this customer support ticket");
        assertThat(answer.get("classify").get("label").asText()).isEqualTo("billing");

        // every output was decided on, with decision id task/step
        assertThat(audit.decisions).containsKeys(response.getTaskId() + "/classify",
                response.getTaskId() + "/validate-summary");
        assertThat(response.getCost().getActualUsd()).isPositive().isLessThan(response.getCost().getAllOracleUsd());
        assertThat(response.getCost().getSavingsFraction()).isBetween(0.0, 1.0);
    }

    @Test
    void theTaskTextPicksThePipeline() {
        var summary = oracle().execute(ExecuteRequest.newBuilder().setTask("Summarise this document")
                .putInputs("document", ticket()).build());
        assertThat(summary.getPlan().getPipeline()).isEqualTo("document-summary");
        var sentiment = oracle().execute(ExecuteRequest.newBuilder()
                .setTask("Is this customer happy or angry?").putInputs("document", ticket()).build());
        assertThat(sentiment.getPlan().getPipeline()).isEqualTo("sentiment");
        var named = oracle().execute(ExecuteRequest.newBuilder().setTask("whatever you think best")
                .setPipeline("field-extraction").putInputs("document", ticket()).build());
        assertThat(named.getPlan().getPipeline()).isEqualTo("field-extraction");
        assertThat(named.getPlan().getRationale()).contains("named by the client");
    }

    @Test
    void aRejectedStepIsEscalatedAndDownstreamStepsGetTheEscalatedOutput() {
        router.confidence.put("extract", 0.3); // low confidence: the fake audit selects it for review
        router.rejectedSteps.add("extract");
        var response = oracle().execute(triage());

        var extract = byStep(response).get("extract");
        assertThat(extract.getAudit().getDecision()).isEqualTo("review");
        assertThat(extract.getAudit().getReason()).isEqualTo("low_confidence");
        assertThat(extract.getAudit().getMode()).isEqualTo("blocking");
        assertThat(extract.getAudit().getVerdict()).isEqualTo("rejected");
        assertThat(extract.getEscalated()).isTrue();
        assertThat(extract.getExecutedBy()).startsWith(FakeRouter.ORACLE);
        assertThat(extract.getOutput()).contains("maria@example.com").contains("oracle");
        assertThat(extract.getConfidence()).isEqualTo(0.3);

        var validate = router.dispatches.stream().filter(d -> d.getStepId().equals("validate-extract"))
                .findFirst().orElseThrow();
        assertThat(validate.getInputsMap().get("candidate")).isEqualTo(extract.getOutput());
        assertThat(audit.verdicts.get(response.getTaskId() + "/extract").getReviewer()).isEqualTo(FakeRouter.ORACLE);
        assertThat(byStep(response).get("classify").getEscalated()).isFalse();
        assertThat(response.getCost().getActualUsd()).isLessThan(response.getCost().getAllOracleUsd());
    }

    @Test
    void aRejectionWithoutAReviewerAnswerIsRedoneOnTheOracleTierWithoutTheWorkersModel() {
        audit.actions.put("summarize", AuditAction.AUDIT_ACTION_REVIEW);
        router.rejectedSteps.add("summarize");
        router.reviewerAnswers = false;
        var response = oracle().execute(ExecuteRequest.newBuilder().setTask("Summarise this document")
                .putInputs("document", ticket()).build());

        var summarize = byStep(response).get("summarize");
        assertThat(summarize.getEscalated()).isTrue();
        assertThat(summarize.getExecutedBy()).isEqualTo(FakeRouter.ORACLE + "@" + FakeRouter.POOL);
        var redo = router.dispatches.stream().filter(d -> d.getStepId().equals("summarize")
                && d.getRequirements().getMinTier() == Tier.TIER_ORACLE).findFirst().orElseThrow();
        assertThat(redo.getExcludeModelsList()).containsExactly(FakeRouter.WORKER);
    }

    @Test
    void aShadowReviewIsLeftToTheAuditServiceWithWhatItNeeds() throws InterruptedException {
        audit.actions.put("classify", AuditAction.AUDIT_ACTION_REVIEW);
        audit.mode = ReviewMode.REVIEW_MODE_SHADOW;
        var response = oracle().execute(ExecuteRequest.newBuilder().setTask("What is the sentiment of this review?")
                .putInputs("document", "I love it").build());
        var step = response.getSteps(0);
        assertThat(step.getAudit().getDecision()).isEqualTo("review");
        assertThat(step.getAudit().getMode()).isEqualTo("shadow");
        assertThat(step.getAudit().getVerdict()).isEmpty();
        assertThat(step.getEscalated()).isFalse();
        // the oracle neither holds nor reviews it: the audit service reviews it from its durable queue, so the
        // decision carries the step's inputs, output and instructions
        assertThat(router.reviews).isEmpty();
        assertThat(audit.verdicts).doesNotContainKey(response.getTaskId() + "/sentiment");
        var decided = audit.decisions.get(response.getTaskId() + "/sentiment");
        assertThat(decided.getInputsMap()).containsEntry("text", "I love it");
        assertThat(decided.getCandidateOutput()).isEqualTo(step.getOutput());
    }

    @Test
    void theStreamEmitsEveryEventInOrderEndingWithTaskDone() {
        router.confidence.put("extract", 0.3);
        router.rejectedSteps.add("extract");
        var events = new ArrayList<TaskEvent>();
        oracle().executeStream(triage()).forEachRemaining(events::add);

        assertThat(events).extracting(TaskEvent::getSequence)
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, events.size()).boxed().toList());
        assertThat(events.getFirst().getEventCase()).isEqualTo(TaskEvent.EventCase.PLAN_READY);
        assertThat(events.getLast().getEventCase()).isEqualTo(TaskEvent.EventCase.TASK_DONE);
        var taskId = events.getLast().getTaskDone().getResponse().getTaskId();
        assertThat(events).allSatisfy(e -> assertThat(e.getTaskId()).isEqualTo(taskId));
        var cases = events.stream().map(TaskEvent::getEventCase).toList();
        assertThat(cases.stream().filter(c -> c == TaskEvent.EventCase.STEP_STARTED)).hasSize(5);
        assertThat(cases.stream().filter(c -> c == TaskEvent.EventCase.STEP_FINISHED)).hasSize(5);
        assertThat(cases.stream().filter(c -> c == TaskEvent.EventCase.STEP_AUDITED)).hasSize(5);
        var escalated = events.stream().filter(TaskEvent::hasStepEscalated).toList();
        assertThat(escalated).singleElement().satisfies(e -> {
            assertThat(e.getStepEscalated().getStepId()).isEqualTo("extract");
            assertThat(e.getStepEscalated().getExecutedBy()).startsWith(FakeRouter.ORACLE);
        });
        // per step: started, finished, (escalated), audited
        for (var id : java.util.List.of("classify", "extract", "validate-extract")) {
            int startedAt = indexOf(events, e -> e.hasStepStarted() && e.getStepStarted().getStepId().equals(id));
            int finishedAt = indexOf(events, e -> e.hasStepFinished() && e.getStepFinished().getStepId().equals(id));
            int auditedAt = indexOf(events, e -> e.hasStepAudited() && e.getStepAudited().getStepId().equals(id));
            assertThat(startedAt).isLessThan(finishedAt);
            assertThat(finishedAt).isLessThan(auditedAt);
        }
        int extractAudited = indexOf(events, e -> e.hasStepAudited() && e.getStepAudited().getStepId().equals("extract"));
        int validateStarted = indexOf(events, e -> e.hasStepStarted()
                && e.getStepStarted().getStepId().equals("validate-extract"));
        assertThat(extractAudited).as("a dependent starts after its dependency is accepted").isLessThan(validateStarted);
    }

    private static int indexOf(java.util.List<TaskEvent> events, java.util.function.Predicate<TaskEvent> p) {
        for (int i = 0; i < events.size(); i++) {
            if (p.test(events.get(i))) {
                return i;
            }
        }
        throw new AssertionError("event not found");
    }

    @Test
    void aStepWhoseDispatchFailsIsEscalatedToTheOracleTierOnce() {
        router.failingWorkerTypes.add("summarize");
        var response = oracle().execute(ExecuteRequest.newBuilder().setTask("Summarise this document")
                .putInputs("document", ticket()).build());
        var summarize = byStep(response).get("summarize");
        assertThat(summarize.getEscalated()).isTrue();
        assertThat(summarize.getExecutedBy()).startsWith(FakeRouter.ORACLE);
        assertThat(summarize.getFailedAttemptsList()).anySatisfy(a -> assertThat(a).contains("UNAVAILABLE"));
    }

    @Test
    void whenTheEscalationFailsTooTheTaskFailsNamingTheStep() {
        router.failingWorkerTypes.add("summarize");
        router.failingOnOracleTier.add("summarize");
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(
                ExecuteRequest.newBuilder().setTask("Summarise this document").putInputs("document", ticket()).build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("step 'summarize'").contains("oracle tier");
        assertThat(router.dispatches).noneMatch(d -> d.getStepId().equals("validate"));
    }

    @Test
    void anExpiredDeadlineIsRefusedBeforeAnyWork() throws Exception {
        var stub = oracleClient.withDeadlineAfter(1, TimeUnit.NANOSECONDS);
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> stub.execute(triage()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(router.dispatches).isEmpty();
    }

    @Test
    void aStepWhoseReviewFailsFailsTheTaskRatherThanBeingAcceptedUnreviewed() {
        audit.actions.put("summarize", AuditAction.AUDIT_ACTION_REVIEW);
        router.failingReviews.add("summarize");
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(
                ExecuteRequest.newBuilder().setTask("Summarise this document").putInputs("document", ticket()).build()));

        assertThat(e).as("the task fails").isNotNull();
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("step 'summarize'").contains("review failed");
        assertThat(router.reviews).extracting(r -> r.getStepId()).containsExactly("summarize");
        // nothing downstream saw the unreviewed output, and no verdict was invented for it
        assertThat(router.dispatches).noneMatch(d -> d.getStepId().equals("validate"));
        assertThat(audit.verdicts).isEmpty();
    }

    @Test
    void theClientsDeadlinePropagatesToTheRouter() {
        // far longer than the 10 s downstream timeout the oracle applies when the call has no deadline (test
        // profile), so only the client's own deadline can leave more than 300 s at the router
        oracleClient.withDeadlineAfter(600, TimeUnit.SECONDS).execute(triage());
        assertThat(router.dispatchDeadlines).isNotEmpty().hasSize(router.dispatches.size()).allSatisfy(d ->
                assertThat(d.timeRemaining(TimeUnit.SECONDS)).isBetween(300L, 600L));
    }

    @Test
    void aClientPlanRunsAsSentAndIsNotChargedForPlanning() {
        var plan = TestPlans.plan(TestPlans.classify("first"),
                TestPlans.step("second", "validate", Map.of("source", "{{inputs.document}}",
                        "candidate", "{{steps.first.output}}"), "first"));
        var response = oracle().execute(ExecuteRequest.newBuilder().setPlan(plan)
                .putInputs("document", "hello").build());
        assertThat(response.getPlan().getPlanner()).isEqualTo("client");
        assertThat(response.getStepsList()).extracting(StepResult::getStepId).containsExactly("first", "second");
        double stepCosts = response.getStepsList().stream().mapToDouble(StepResult::getCostUsd).sum();
        assertThat(response.getCost().getActualUsd()).isEqualTo(stepCosts);
    }
}
