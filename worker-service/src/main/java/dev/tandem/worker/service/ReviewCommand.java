package dev.tandem.worker.service;

import dev.tandem.models.chat.CallDeadline;

import java.util.Map;

/**
 * A candidate output to be judged by a (stronger) reviewing model, with the caller's deadline and cancellation.
 *
 * @param callKey the call's idempotency key ("" when unkeyed), as in {@link StepCommand}
 */
public record ReviewCommand(String taskId, String stepId, String workerType, Map<String, String> inputs,
                            String candidateOutput, String candidateModelId, String modelId, String instructions,
                            CallDeadline deadline, String callKey) {

    public ReviewCommand {
        inputs = Map.copyOf(inputs);
        instructions = instructions == null ? "" : instructions;
        deadline = deadline == null ? CallDeadline.none() : deadline;
        callKey = callKey == null ? "" : callKey;
    }
}
