package dev.tandem.audit;

/** One worker output to decide on. */
public record DecisionRequest(
        String decisionId,
        String taskId,
        String stepId,
        StreamKey stream,
        double confidence,
        double rawConfidence,
        boolean validationPassed) {
}
