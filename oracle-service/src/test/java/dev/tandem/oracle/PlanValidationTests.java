package dev.tandem.oracle;

import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ParallelLevel;
import dev.tandem.proto.oracle.v1.ValidatePlanRequest;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.stream.IntStream;

import static dev.tandem.oracle.TestPlans.classify;
import static dev.tandem.oracle.TestPlans.plan;
import static dev.tandem.oracle.TestPlans.step;
import static dev.tandem.oracle.TestPlans.violations;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Bad plans and bad tasks are refused before anything runs, with every violation at its field path. */
@QuarkusTest
class PlanValidationTests extends OracleTestBase {

    private Map<String, String> refused(ExecuteRequest request) {
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(request));
        assertThat(router.dispatches).as("nothing ran").isEmpty();
        return violations(e);
    }

    private Map<String, String> refusedPlan(dev.tandem.proto.oracle.v1.Plan plan) {
        return refused(ExecuteRequest.newBuilder().setPlan(plan).putInputs("document", "text").build());
    }

    @Test
    void aCycleIsReportedWithItsPath() {
        var v = refusedPlan(plan(classify("a", "c"), classify("b", "a"), classify("c", "b"), classify("d")));
        assertThat(v).containsKey("plan.steps[0].depends_on");
        assertThat(v.get("plan.steps[0].depends_on")).contains("cycle").contains("a -> c -> b -> a");
    }

    @Test
    void unknownWorkerTypesAreNamedWithTheKnownOnes() {
        var v = refusedPlan(plan(classify("a"), step("b", "translate", Map.of("text", "x"))));
        assertThat(v.get("plan.steps[1].worker_type")).contains("unknown worker type 'translate'")
                .contains("classify", "extract", "summarize", "validate");
    }

    @Test
    void dependenciesMustExistAndNotBeTheStepItself() {
        var v = refusedPlan(plan(classify("a", "ghost"), classify("b", "a", "b")));
        assertThat(v.get("plan.steps[0].depends_on[0]")).contains("unknown step 'ghost'");
        assertThat(v.get("plan.steps[1].depends_on[1]")).contains("depends on itself");
    }

    @Test
    void stepReferencesMustBeDeclaredDependenciesAndInputsMustExist() {
        var v = refusedPlan(plan(classify("a"),
                step("b", "validate", Map.of("source", "{{inputs.missing}}", "candidate", "{{steps.a.output}}"))));
        assertThat(v.get("plan.steps[1].inputs.candidate")).contains("{{steps.a.output}}").contains("depends_on");
        assertThat(v.get("plan.steps[1].inputs.source")).contains("no input 'missing'");
    }

    @Test
    void requiredWorkerTypeInputsAndDuplicateIdsAndBadIdsAreReportedTogether() {
        var v = refusedPlan(plan(classify("a"), step("a", "validate", Map.of("source", "x")),
                classify("Bad Id")));
        assertThat(v).containsKeys("plan.steps[1].id", "plan.steps[1].inputs.candidate", "plan.steps[2].id");
        assertThat(v.get("plan.steps[1].id")).contains("duplicate");
    }

    /**
     * A step input with "{{" and a run of blanks and no closing braces: the reference pattern backtracked
     * polynomially on it (5,000 blanks took two minutes of a core, in validation and again when the step ran), so a
     * few KB in a plan pinned a core for as long as the run was, past the client's deadline. A reference with blanks
     * inside its braces still resolves.
     */
    @Test
    void aLongRunOfBlanksAfterOpeningBracesIsValidatedAndRunPromptly() {
        var unclosed = "{{" + " ".repeat(20_000) + "x";
        var request = ExecuteRequest.newBuilder().setTask("Classify").putInputs("document", "the ticket")
                .setPlan(plan(step("a", "classify", Map.of("text", "{{ inputs.document }} " + unclosed)))).build();
        var response = oracle().withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS).execute(request);
        assertThat(response.getStepsCount()).isEqualTo(1);
        assertThat(router.dispatches.getFirst().getInputsMap().get("text")).isEqualTo("the ticket " + unclosed);
    }

    /** The schema's id pattern ends in '$', which java.util.regex also matches before a final line break. */
    @Test
    void aStepIdEndingInALineBreakIsRefused() {
        var v = refusedPlan(plan(classify("a\n"), classify("b\r\n")));
        assertThat(v).containsKeys("plan.steps[0].id", "plan.steps[1].id");
    }

    @Test
    void oversizePlansAreRefused() {
        var steps = IntStream.range(0, 33).mapToObj(i -> classify("s" + i))
                .toArray(dev.tandem.proto.oracle.v1.PlanStep[]::new);
        var v = refusedPlan(plan(steps));
        assertThat(v.get("plan.steps")).contains("32");
    }

    /**
     * Within the step bound, a step's depends_on and inputs are bounded only by the message: each reference was
     * looked up in the list of dependencies, so 150,000 of each took half a minute of a core.
     */
    @Test
    void aStepWithHugeDependencyAndReferenceListsIsValidatedPromptly() {
        var reader = step("b", "classify", Map.of("text", "{{steps.c.output}}".repeat(150_000)),
                java.util.Collections.nCopies(150_000, "a").toArray(String[]::new));
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle()
                .withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS).validatePlan(ValidatePlanRequest
                        .newBuilder().setPlan(plan(classify("a"), reader, classify("c")))
                        .putInputs("document", "text").build()));
        assertThat(violations(e).get("plan.steps[1].inputs.text")).contains("'c' is not in depends_on");
    }

    /**
     * A plan far over the size bound (an 8 MiB message holds tens of thousands of steps) is refused for its size
     * alone: the DAG checks ran over all of it before, and looking for a cycle from every step behind one took time
     * cubic in their number, past any deadline, with the client long gone.
     */
    @Test
    void aHugePlanIsRefusedForItsSizePromptly() {
        var steps = new java.util.ArrayList<dev.tandem.proto.oracle.v1.PlanStep>();
        steps.add(classify("s0", "s1"));
        for (int i = 1; i < 20_000; i++) {
            steps.add(classify("s" + i, "s" + (i - 1)));
        }
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle()
                .withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS).validatePlan(ValidatePlanRequest
                        .newBuilder().setPlan(dev.tandem.proto.oracle.v1.Plan.newBuilder().addAllSteps(steps))
                        .putInputs("document", "text").build()));
        assertThat(violations(e).get("plan.steps")).contains("32").contains("20000");
    }

    @Test
    void anEmptyTaskWithoutAPlanIsRefusedOnTask() {
        var v = refused(ExecuteRequest.newBuilder().setTask("  ").putInputs("document", "x").build());
        assertThat(v).containsOnlyKeys("task");
    }

    @Test
    void anUnknownPipelineIsRefusedListingTheKnownOnes() {
        var v = refused(ExecuteRequest.newBuilder().setTask("anything").setPipeline("nope")
                .putInputs("document", "x").build());
        assertThat(v.get("pipeline")).contains("nope").contains("document-triage", "document-summary",
                "field-extraction", "sentiment");
    }

    @Test
    void aTaskNoPipelineMatchesIsRefusedNamingTheClosest() {
        var v = refused(ExecuteRequest.newBuilder().setTask("Book me a flight to Lisbon next Tuesday")
                .putInputs("document", "x").build());
        assertThat(v.get("task")).contains("no pipeline matches").contains("closest").contains("document-triage");
    }

    @Test
    void missingPipelineInputsAreRefusedOnTheInput() {
        var v = refused(ExecuteRequest.newBuilder().setTask("Triage this customer support ticket").build());
        assertThat(v).containsOnlyKeys("inputs.document");
    }

    @Test
    void validatePlanReturnsTheOrderAndTheParallelLevels() {
        var response = oracle().validatePlan(ValidatePlanRequest.newBuilder()
                .setPlan(plan(classify("a"), classify("b"),
                        step("c", "validate", Map.of("source", "{{inputs.document}}",
                                "candidate", "{{steps.a.output}}"), "a", "b"),
                        classify("d", "c")))
                .putInputs("document", "text").build());
        assertThat(response.getTopologicalOrderList()).containsExactly("a", "b", "c", "d");
        assertThat(response.getLevelsList()).extracting(l -> (java.util.List<String>) java.util.List.copyOf(l.getStepIdsList()))
                .containsExactly(java.util.List.of("a", "b"), java.util.List.of("c"), java.util.List.of("d"));
    }

    @Test
    void whenTheRouterIsUnreachableTheLastKnownWorkerTypesAreUsed() {
        var request = ValidatePlanRequest.newBuilder().setPlan(plan(classify("a"))).putInputs("document", "x").build();
        assertThat(oracle().validatePlan(request).getTopologicalOrderList()).containsExactly("a");
        router.listWorkerTypesDown = true;
        catalog.expire();
        assertThat(oracle().validatePlan(request).getTopologicalOrderList()).containsExactly("a");

        catalog.invalidate(); // nothing known and the router down: the plan cannot be checked
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().validatePlan(request));
        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("router is unreachable");
    }

    @Test
    void validatePlanRefusesAnEmptyPlan() {
        var e = catchThrowableOfType(StatusRuntimeException.class,
                () -> oracle().validatePlan(ValidatePlanRequest.newBuilder().build()));
        assertThat(violations(e)).containsKey("plan.steps");
    }
}
