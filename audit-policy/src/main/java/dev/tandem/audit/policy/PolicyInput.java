package dev.tandem.audit.policy;

/**
 * The part of one output the decision rule reads.
 *
 * @param confidence the caller's calibrated confidence, null when it sent none (the stream's map applies then)
 */
public record PolicyInput(String decisionId, Double confidence, double rawConfidence, boolean validationPassed) {
}
