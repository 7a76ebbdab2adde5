package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.TokenUsage;

import java.util.Map;
import java.util.Set;

/**
 * Runs the implement phase of a step with one kind of model backend: the embedded encoders, or the chat models
 * (OpenAI-compatible, Anthropic, replay) through {@code model-clients}.
 */
public interface StepModel {

    /** The providers this backend serves. */
    Set<Provider> providers();

    /**
     * Produces the step's output with the given model, within the caller's deadline: a chat model gets it as its
     * request's deadline, an embedded model checks it between stages.
     *
     * @param callKey names the model call ("" when unkeyed): a chat model's batch path names the call's provider
     *                batch item after it, so a repeat joins the waiting item
     * @throws StepException DEADLINE_EXCEEDED or CANCELLED when the caller's deadline passed or it gave up
     */
    ModelAnswer implement(WorkerType type, ModelSpec model, Map<String, String> inputs, String instructions,
                          CallDeadline deadline, String callKey);

    /**
     * What a model produced for a step.
     *
     * @param output           the output JSON, to be checked by the gates
     * @param rawConfidence    the model's own confidence in [0, 1], before the gates are folded in
     * @param confidenceMethod how {@code rawConfidence} was computed, e.g. {@code label-probability}
     * @param detail           one line on how the output was reached, for the phase log
     * @param usage            tokens read and written (cached input included)
     */
    record ModelAnswer(ObjectNode output, double rawConfidence, String confidenceMethod, String detail,
                       TokenUsage usage) {
    }
}
