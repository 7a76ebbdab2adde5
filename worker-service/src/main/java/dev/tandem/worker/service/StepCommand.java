package dev.tandem.worker.service;

import dev.tandem.models.chat.CallDeadline;

import java.util.Map;

/**
 * One step to execute, as the router sent it, with the caller's deadline and cancellation.
 *
 * @param callKey the call's idempotency key ("" when unkeyed): a BATCH-class call's provider batch item is named
 *                after it
 */
public record StepCommand(String taskId, String stepId, String workerType, Map<String, String> inputs,
                          String modelId, String instructions, int attempt, CallDeadline deadline, String callKey) {

    public StepCommand {
        inputs = Map.copyOf(inputs);
        instructions = instructions == null ? "" : instructions;
        deadline = deadline == null ? CallDeadline.none() : deadline;
        callKey = callKey == null ? "" : callKey;
    }
}
