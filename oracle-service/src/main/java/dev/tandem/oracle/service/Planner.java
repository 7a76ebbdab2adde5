package dev.tandem.oracle.service;

import dev.tandem.grpc.FieldViolation;
import dev.tandem.models.chat.TokenUsage;
import dev.tandem.proto.oracle.v1.Plan;

import java.util.List;
import java.util.Optional;

/**
 * Turns a task into a plan. The embedded planner picks a pipeline from the catalog; a model planner (an LLM
 * oracle) plans freely and is asked to repair a plan that failed validation, a bounded number of times
 * ({@code tandem.oracle.planner.repair-attempts}).
 */
public interface Planner {

    /**
     * What a planner produced.
     *
     * @param plan  the plan, empty when the planner's answer was not a plan at all (then {@code raw} says what it was)
     * @param raw   the planner's answer as it came, shown to it again when it is asked to repair
     * @param usage the model tokens this answer cost; estimated for the embedded planner
     * @param problem why the answer is not a plan, when {@code plan} is empty
     */
    record Draft(Optional<Plan> plan, String raw, TokenUsage usage, Optional<FieldViolation> problem) {

        public static Draft of(Plan plan, TokenUsage usage) {
            return new Draft(Optional.of(plan), "", usage, Optional.empty());
        }
    }

    /** Name recorded as the plan's {@code planner}. */
    String name();

    /**
     * A plan for the task.
     *
     * @throws InvalidTaskException when the task cannot be planned (no match, unknown pipeline, missing inputs)
     */
    Draft plan(PlanningRequest request);

    /** A corrected draft given the violations of the last one; empty when this planner cannot repair. */
    default Optional<Draft> repair(PlanningRequest request, Draft previous, List<FieldViolation> violations) {
        return Optional.empty();
    }
}
