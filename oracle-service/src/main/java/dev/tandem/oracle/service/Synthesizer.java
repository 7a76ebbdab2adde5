package dev.tandem.oracle.service;

import dev.tandem.models.chat.TokenUsage;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.StepResult;

import java.util.List;
import java.util.Optional;

/**
 * Turns the accepted step outputs into the task's answer. The embedded synthesiser merges them; the model
 * synthesiser (an LLM oracle) writes an answer from them, streamed to the client as it is written.
 */
public interface Synthesizer {

    /**
     * The answer, as JSON, and the model tokens it cost.
     *
     * @param model the model that wrote it (priced on the router's catalog), empty when no model was called
     */
    record Synthesis(String output, TokenUsage usage, Optional<String> model) {
    }

    Synthesis synthesize(String task, Plan plan, List<StepResult> steps, TaskEvents events);
}
