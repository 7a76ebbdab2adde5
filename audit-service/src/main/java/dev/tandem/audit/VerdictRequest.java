package dev.tandem.audit;

/** A review verdict for a decision. */
public record VerdictRequest(String decisionId, Verdict verdict, String reviewer, String reason) {
}
