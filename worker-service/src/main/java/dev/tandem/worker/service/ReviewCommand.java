package dev.tandem.worker.service;

import java.util.Map;

/** A candidate output to be judged by a (stronger) reviewing model. */
public record ReviewCommand(String taskId, String stepId, String workerType, Map<String, String> inputs,
                            String candidateOutput, String candidateModelId, String modelId, String instructions) {

    public ReviewCommand {
        inputs = Map.copyOf(inputs);
        instructions = instructions == null ? "" : instructions;
    }
}
