package dev.tandem.audit;

import java.util.Map;

/** One worker output to decide on; inputs, candidate output and instructions are optional review payload. */
public record DecisionRequest(
        String decisionId,
        String taskId,
        String stepId,
        StreamKey stream,
        double confidence,
        double rawConfidence,
        boolean validationPassed,
        Map<String, String> inputs,
        String candidateOutput,
        String instructions) {

    public DecisionRequest {
        inputs = inputs == null ? Map.of() : Map.copyOf(inputs);
        candidateOutput = candidateOutput == null ? "" : candidateOutput;
        instructions = instructions == null ? "" : instructions;
    }

    public DecisionRequest(String decisionId, String taskId, String stepId, StreamKey stream, double confidence,
            double rawConfidence, boolean validationPassed) {
        this(decisionId, taskId, stepId, stream, confidence, rawConfidence, validationPassed, Map.of(), "", "");
    }

    public boolean hasPayload() {
        return !candidateOutput.isEmpty();
    }

    /** The request with the stream key replaced (tenant folded into the shared stream). */
    public DecisionRequest withStream(StreamKey key) {
        return new DecisionRequest(decisionId, taskId, stepId, key, confidence, rawConfidence, validationPassed,
                inputs, candidateOutput, instructions);
    }
}
