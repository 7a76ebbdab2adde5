package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;

import java.util.Map;

/**
 * Runs the implement phase of a step with one kind of model backend. One bean per {@link Provider}: the embedded
 * encoders today; the OpenAI-compatible, Anthropic and replay providers of issue 3 plug in as further beans.
 */
public interface StepModel {

    /** The provider this backend serves. */
    Provider provider();

    /** Produces the step's output with the given model. */
    ModelAnswer implement(WorkerType type, ModelSpec model, Map<String, String> inputs, String instructions);

    /**
     * What a model produced for a step.
     *
     * @param output        the output JSON, to be checked by the gates
     * @param rawConfidence the model's own confidence in [0, 1], before gates and calibration
     * @param detail        one line on how the output was reached, for the phase log
     * @param inputTokens   tokens the model read
     * @param outputTokens  tokens the model produced
     */
    record ModelAnswer(ObjectNode output, double rawConfidence, String detail, long inputTokens, long outputTokens) {
    }
}
