package dev.tandem.oracle.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.PlanStep;

import java.util.Map;

/** The plan as the JSON document {@code plan.schema.json} describes (snake_case field names, as in the proto). */
public final class PlanJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private PlanJson() {
    }

    /**
     * The plan a JSON document describes, read leniently: scalar values become their text, anything else is left
     * out, so the validator (which checks the plan against the schema again) reports what is wrong by field.
     */
    public static Plan fromJson(JsonNode root) {
        var plan = Plan.newBuilder().setPipeline(text(root.path("pipeline"))).setRationale(text(root.path("rationale")));
        for (var s : root.path("steps")) {
            var step = PlanStep.newBuilder().setId(text(s.path("id"))).setWorkerType(text(s.path("worker_type")))
                    .setInstructions(text(s.path("instructions")));
            s.path("inputs").properties().forEach(e -> step.putInputs(e.getKey(), text(e.getValue())));
            s.path("depends_on").forEach(d -> step.addDependsOn(text(d)));
            plan.addSteps(step);
        }
        return plan.build();
    }

    private static String text(JsonNode node) {
        return node.isValueNode() ? node.asText() : "";
    }

    public static ObjectNode toJson(Plan plan) {
        var root = MAPPER.createObjectNode();
        root.put("pipeline", plan.getPipeline());
        root.put("planner", plan.getPlanner());
        root.put("rationale", plan.getRationale());
        var steps = root.putArray("steps");
        for (var s : plan.getStepsList()) {
            var step = steps.addObject();
            step.put("id", s.getId());
            step.put("worker_type", s.getWorkerType());
            var inputs = step.putObject("inputs");
            // sorted, so violation messages and logs are stable
            s.getInputsMap().entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> inputs.put(e.getKey(), e.getValue()));
            var deps = step.putArray("depends_on");
            s.getDependsOnList().forEach(deps::add);
            if (!s.getInstructions().isEmpty()) {
                step.put("instructions", s.getInstructions());
            }
        }
        return root;
    }
}
