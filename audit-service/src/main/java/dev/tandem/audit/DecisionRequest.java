package dev.tandem.audit;

import java.time.Instant;
import java.util.Map;

import dev.tandem.calibration.CalibrationMap;

/**
 * One worker output to decide on; inputs, candidate output and instructions are optional review payload.
 *
 * @param confidence the calibrated confidence the caller sent (the router's calibration of {@code rawConfidence}
 *        with this service's map), recorded as it is; null when the caller sent none, and then this service's map
 *        calibrates it ({@link #calibratedConfidence})
 * @param batch         the step's task is BATCH-class: its shadow review goes out as a batch-class review
 * @param batchDeadline when that task's batch window ends (null when not batch, or not sent)
 */
public record DecisionRequest(
        String decisionId,
        String taskId,
        String stepId,
        StreamKey stream,
        Double confidence,
        double rawConfidence,
        boolean validationPassed,
        Map<String, String> inputs,
        String candidateOutput,
        String instructions,
        boolean batch,
        Instant batchDeadline) {

    public DecisionRequest {
        inputs = inputs == null ? Map.of() : Map.copyOf(inputs);
        candidateOutput = candidateOutput == null ? "" : candidateOutput;
        instructions = instructions == null ? "" : instructions;
    }

    /** An interactive output's request (no batch window). */
    public DecisionRequest(String decisionId, String taskId, String stepId, StreamKey stream, Double confidence,
            double rawConfidence, boolean validationPassed, Map<String, String> inputs, String candidateOutput,
            String instructions) {
        this(decisionId, taskId, stepId, stream, confidence, rawConfidence, validationPassed, inputs, candidateOutput,
                instructions, false, null);
    }

    public DecisionRequest(String decisionId, String taskId, String stepId, StreamKey stream, Double confidence,
            double rawConfidence, boolean validationPassed) {
        this(decisionId, taskId, stepId, stream, confidence, rawConfidence, validationPassed, Map.of(), "", "");
    }

    /** The one calibrated value of the output: the caller's when it sent one, else the stream's map applied. */
    public double calibratedConfidence(CalibrationMap streamCalibration) {
        return confidence == null ? CalibrationMap.apply(streamCalibration, rawConfidence) : confidence;
    }

    /** The request with its calibrated confidence set. */
    public DecisionRequest withConfidence(double calibrated) {
        return new DecisionRequest(decisionId, taskId, stepId, stream, calibrated, rawConfidence, validationPassed,
                inputs, candidateOutput, instructions, batch, batchDeadline);
    }

    /** Whether a review of the output goes out as a batch-class review now: BATCH-class, its window still open. */
    public boolean reviewAsBatch(Instant now) {
        return batch && (batchDeadline == null || batchDeadline.isAfter(now));
    }

    public boolean hasPayload() {
        return !candidateOutput.isEmpty();
    }

    /** The request with the stream key replaced (tenant folded into the shared stream). */
    public DecisionRequest withStream(StreamKey key) {
        return new DecisionRequest(decisionId, taskId, stepId, key, confidence, rawConfidence, validationPassed,
                inputs, candidateOutput, instructions, batch, batchDeadline);
    }
}
