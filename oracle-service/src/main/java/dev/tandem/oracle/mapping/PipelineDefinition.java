package dev.tandem.oracle.mapping;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.PlanStep;

import java.util.List;
import java.util.Map;

/**
 * One pipeline of the embedded planner's catalog, as read from {@code pipelines/*.json}: a named plan template
 * with the texts it is matched on.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record PipelineDefinition(
        String name,
        String description,
        List<String> examples,
        @JsonProperty("required_inputs") List<String> requiredInputs,
        List<StepTemplate> steps) {

    public PipelineDefinition {
        examples = examples == null ? List.of() : List.copyOf(examples);
        requiredInputs = requiredInputs == null ? List.of() : List.copyOf(requiredInputs);
        steps = steps == null ? List.of() : List.copyOf(steps);
    }

    /** One step of the template; inputs keep their {{...}} references, substituted when the step runs. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record StepTemplate(
            String id,
            @JsonProperty("worker_type") String workerType,
            Map<String, String> inputs,
            @JsonProperty("depends_on") List<String> dependsOn,
            String instructions) {
    }

    /** The plan this pipeline stands for. */
    public Plan toPlan(String planner, String rationale) {
        var plan = Plan.newBuilder().setPipeline(name).setPlanner(planner).setRationale(rationale);
        for (var s : steps) {
            var step = PlanStep.newBuilder().setId(nullToEmpty(s.id())).setWorkerType(nullToEmpty(s.workerType()));
            if (s.inputs() != null) {
                step.putAllInputs(s.inputs());
            }
            if (s.dependsOn() != null) {
                step.addAllDependsOn(s.dependsOn());
            }
            if (s.instructions() != null) {
                step.setInstructions(s.instructions());
            }
            plan.addSteps(step);
        }
        return plan.build();
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
