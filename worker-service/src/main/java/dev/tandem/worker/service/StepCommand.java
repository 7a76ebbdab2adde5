package dev.tandem.worker.service;

import java.util.Map;

/** One step to execute, as the router sent it. */
public record StepCommand(String taskId, String stepId, String workerType, Map<String, String> inputs,
                          String modelId, String instructions, int attempt) {

    public StepCommand {
        inputs = Map.copyOf(inputs);
        instructions = instructions == null ? "" : instructions;
    }
}
