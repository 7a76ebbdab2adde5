package dev.tandem.worker.service;

import dev.tandem.models.chat.TokenUsage;

import java.util.List;

/**
 * The result of one step.
 *
 * @param output           output JSON
 * @param rawConfidence    the method's score with the gate outcomes folded in: the one confidence a worker reports
 *                         (the audit service fits the calibration per stream, the router applies it)
 * @param confidenceMethod the method used, e.g. {@code label-probability}
 * @param usage            tokens of the model call(s), cached input included
 * @param fromCheckpoint   true when replayed from the checkpoint store
 */
public record StepOutcome(String output, double rawConfidence, String confidenceMethod,
                          boolean passed, List<Gates.GateOutcome> gates, TokenUsage usage,
                          double latencyMs, String modelId, List<Phase> phases, boolean fromCheckpoint) {

    /** One workflow phase with its duration. */
    public record Phase(String name, double durationMs, String detail) {
    }

    /** The same result replayed: new phases and latency, flagged as from the checkpoint. */
    StepOutcome replayed(List<Phase> replayPhases, double replayLatencyMs) {
        return new StepOutcome(output, rawConfidence, confidenceMethod, passed, gates, usage,
                replayLatencyMs, modelId, replayPhases, true);
    }
}
