package dev.tandem.audit;

/** A review verdict for a decision; {@code reviewerOutput} is the reviewer's own answer (optional). */
public record VerdictRequest(String decisionId, Verdict verdict, String reviewer, String reason,
        String reviewerOutput) {

    public VerdictRequest(String decisionId, Verdict verdict, String reviewer, String reason) {
        this(decisionId, verdict, reviewer, reason, "");
    }
}
