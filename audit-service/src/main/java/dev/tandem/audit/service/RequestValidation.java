package dev.tandem.audit.service;

import java.util.ArrayList;
import java.util.List;

import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.grpc.FieldViolation;

/** Contract checks on incoming requests; field names are those of audit.proto. */
public final class RequestValidation {

    /** Longest identifier accepted: keeps hostile input out of the ledger and the metric tags. */
    static final int MAX_ID_LENGTH = 256;

    private RequestValidation() {
    }

    public static void check(DecisionRequest r) {
        check(r, Integer.MAX_VALUE);
    }

    public static void check(DecisionRequest r, int maxPayloadBytes) {
        List<FieldViolation> violations = new ArrayList<>();
        requireId(violations, "decision_id", r.decisionId());
        requireId(violations, "worker_backend", r.stream().workerBackend());
        requireId(violations, "worker_type", r.stream().workerType());
        optionalId(violations, "task_id", r.taskId());
        optionalId(violations, "step_id", r.stepId());
        optionalId(violations, "tenant", r.stream().tenant());
        if (r.confidence() != null) { // null: not sent, the stream's map calibrates raw_confidence
            unitInterval(violations, "confidence", r.confidence());
        }
        unitInterval(violations, "raw_confidence", r.rawConfidence());
        long payload = (long) r.candidateOutput().length() + r.instructions().length();
        for (var e : r.inputs().entrySet()) {
            payload += e.getKey().length() + (long) e.getValue().length();
        }
        if (payload > maxPayloadBytes) {
            violations.add(new FieldViolation("inputs", "inputs, candidate_output and instructions hold " + payload
                    + " characters, more than the " + maxPayloadBytes + " allowed (tandem.audit.ledger."
                    + "max-payload-bytes)"));
        }
        throwIfAny(violations);
    }

    public static void check(VerdictRequest r) {
        List<FieldViolation> violations = new ArrayList<>();
        requireId(violations, "decision_id", r.decisionId());
        if (r.verdict() == null) {
            violations.add(new FieldViolation("verdict", "must be VERDICT_ACCEPTED or VERDICT_REJECTED"));
        }
        optionalId(violations, "reviewer", r.reviewer());
        if (r.reviewerOutput() != null && r.reviewerOutput().length() > 1_048_576) {
            violations.add(new FieldViolation("reviewer_output", "must be at most 1048576 characters"));
        }
        throwIfAny(violations);
    }

    public static void requireId(List<FieldViolation> violations, String field, String value) {
        if (value == null || value.isBlank()) {
            violations.add(new FieldViolation(field, "must not be empty"));
        } else {
            optionalId(violations, field, value);
        }
    }

    public static void optionalId(List<FieldViolation> violations, String field, String value) {
        if (value != null && value.length() > MAX_ID_LENGTH) {
            violations.add(new FieldViolation(field, "must be at most " + MAX_ID_LENGTH + " characters"));
        }
    }

    private static void unitInterval(List<FieldViolation> violations, String field, double value) {
        if (!(value >= 0.0 && value <= 1.0)) { // also rejects NaN
            violations.add(new FieldViolation(field, "must be within [0, 1], got " + value));
        }
    }

    public static void throwIfAny(List<FieldViolation> violations) {
        if (!violations.isEmpty()) {
            throw new InvalidAuditRequestException(violations);
        }
    }
}
