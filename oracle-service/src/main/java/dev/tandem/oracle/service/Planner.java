package dev.tandem.oracle.service;

import dev.tandem.proto.oracle.v1.Plan;

import java.util.List;
import java.util.Optional;

/**
 * Turns a task into a plan. The embedded planner picks a pipeline from the catalog; an LLM oracle (issue 3)
 * plans freely and may be asked to repair a plan that failed validation, a bounded number of times
 * ({@code tandem.oracle.planner.repair-attempts}).
 */
public interface Planner {

    /** Name recorded as the plan's {@code planner}. */
    String name();

    /**
     * A plan for the task.
     *
     * @throws InvalidTaskException when the task cannot be planned (no match, unknown pipeline, missing inputs)
     */
    Plan plan(PlanningRequest request);

    /** A corrected plan given the violations of the last one; empty when this planner cannot repair. */
    default Optional<Plan> repair(PlanningRequest request, Plan invalid, List<FieldViolation> violations) {
        return Optional.empty();
    }
}
