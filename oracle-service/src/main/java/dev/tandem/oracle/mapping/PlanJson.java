package dev.tandem.oracle.mapping;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.proto.oracle.v1.Plan;

/** The plan as the JSON document {@code plan.schema.json} describes (snake_case field names, as in the proto). */
public final class PlanJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private PlanJson() {
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
            s.getInputsMap().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
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
