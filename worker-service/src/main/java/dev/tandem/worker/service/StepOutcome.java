package dev.tandem.worker.service;

import java.util.List;

/**
 * The result of one step.
 *
 * @param output          output JSON
 * @param confidence      confidence after the gates are folded in (and, later, calibration)
 * @param rawConfidence   the model's own confidence
 * @param fromCheckpoint  true when replayed from the checkpoint store
 */
public record StepOutcome(String output, double confidence, double rawConfidence, String confidenceMethod,
                          boolean passed, List<Gates.GateOutcome> gates, long inputTokens, long outputTokens,
                          double latencyMs, String modelId, List<Phase> phases, boolean fromCheckpoint) {

    /** One workflow phase with its duration. */
    public record Phase(String name, double durationMs, String detail) {
    }

    /** The same result replayed: new phases and latency, flagged as from the checkpoint. */
    StepOutcome replayed(List<Phase> replayPhases, double replayLatencyMs) {
        return new StepOutcome(output, confidence, rawConfidence, confidenceMethod, passed, gates, inputTokens,
                outputTokens, replayLatencyMs, modelId, replayPhases, true);
    }
}
