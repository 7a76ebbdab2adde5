package dev.tandem.oracle.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.models.chat.TokenUsage;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.StepResult;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Optional;

/**
 * Merges the accepted outputs into one JSON object keyed by step id, with the task and the pipeline; no model
 * call, so it costs nothing. A step output that is not JSON is kept as a string.
 */
@ApplicationScoped
public class EmbeddedSynthesizer implements Synthesizer {

    private final ObjectMapper mapper;

    public EmbeddedSynthesizer(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public Synthesis synthesize(String task, Plan plan, List<StepResult> steps, TaskEvents events) {
        try {
            return new Synthesis(mapper.writeValueAsString(merged(task, plan, steps)), TokenUsage.NONE,
                    Optional.empty());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The task, the pipeline and every step's accepted output by step id. */
    public ObjectNode merged(String task, Plan plan, List<StepResult> steps) {
        var answer = mapper.createObjectNode();
        answer.put("task", task);
        answer.put("pipeline", plan.getPipeline());
        for (var step : steps) {
            try {
                var node = mapper.readTree(step.getOutput());
                if (node == null || node.isMissingNode()) {
                    answer.put(step.getStepId(), step.getOutput());
                    continue;
                }
                answer.set(step.getStepId(), node);
            } catch (JsonProcessingException e) {
                answer.put(step.getStepId(), step.getOutput());
            }
        }
        return answer;
    }
}
