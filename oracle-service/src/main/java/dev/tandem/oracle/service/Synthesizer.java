package dev.tandem.oracle.service;

import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.StepResult;

import java.util.List;

/**
 * Turns the accepted step outputs into the task's answer. The embedded synthesiser merges them; an LLM oracle
 * (issue 3) writes an answer from them, and reports what that cost.
 */
public interface Synthesizer {

    /** The answer, as JSON, and what producing it cost in USD. */
    record Synthesis(String output, double costUsd) {
    }

    Synthesis synthesize(String task, Plan plan, List<StepResult> steps);
}
