package dev.tandem.audit.service;

import java.time.Instant;
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
        text(violations, "candidate_output", r.candidateOutput());
        text(violations, "instructions", r.instructions());
        long payload = (long) r.candidateOutput().length() + r.instructions().length();
        for (var e : r.inputs().entrySet()) {
            payload += e.getKey().length() + (long) e.getValue().length();
            if (hasNul(e.getKey()) || hasNul(e.getValue())) {
                violations.add(new FieldViolation("inputs." + e.getKey().replace("\u0000", "\\u0000"), NUL));
            }
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
        text(violations, "reason", r.reason());
        text(violations, "reviewer_output", r.reviewerOutput());
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
        } else {
            text(violations, field, value);
        }
    }

    /**
     * PostgreSQL text cannot hold U+0000: written, it would fail the statement, and with it every decision of the
     * group commit it is in; as a query filter it would fail the query (it can match nothing stored).
     */
    public static void text(List<FieldViolation> violations, String field, String value) {
        if (hasNul(value)) {
            violations.add(new FieldViolation(field, NUL));
        }
    }

    private static final String NUL = "must not contain the NUL character (U+0000)";

    private static boolean hasNul(String value) {
        return value != null && value.indexOf('\u0000') >= 0;
    }

    /** Earliest and latest instants a google.protobuf.Timestamp may hold (0001-01-01, 9999-12-31 UTC). */
    private static final Instant MIN_INSTANT = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant MAX_INSTANT = Instant.parse("9999-12-31T23:59:59.999999999Z");

    /**
     * A time sent by a caller: within google.protobuf.Timestamp's range, which the ledger's timestamptz holds (an
     * instant outside it would fail the statement, or, past Instant's own range, the mapping).
     */
    public static Instant instant(String field, long seconds, int nanos) {
        if (nanos < 0 || nanos > 999_999_999 || seconds < MIN_INSTANT.getEpochSecond()
                || seconds > MAX_INSTANT.getEpochSecond()) {
            throw new InvalidAuditRequestException(List.of(new FieldViolation(field, "must be a valid "
                    + "google.protobuf.Timestamp (0001-01-01 to 9999-12-31 UTC, nanos in [0, 999999999]), got "
                    + seconds + " s " + nanos + " ns")));
        }
        return Instant.ofEpochSecond(seconds, nanos);
    }

    /** An instant from the admin API, bounded like {@link #instant(String, long, int)}. */
    public static Instant instant(String field, Instant value) {
        if (value != null && (value.isBefore(MIN_INSTANT) || value.isAfter(MAX_INSTANT))) {
            throw new InvalidAuditRequestException(List.of(new FieldViolation(field, "must be between "
                    + "0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, got " + value)));
        }
        return value;
    }

    private static void unitInterval(List<FieldViolation> violations, String field, double value) {
        if (!(value >= 0.0 && value <= 1.0)) { // also rejects NaN
            violations.add(new FieldViolation(field, "must be within [0, 1], got " + value));
        }
    }

    /** Query filters, as field name and value pairs: an identifier no stored row can hold is refused. */
    public static void checkFilters(String... fieldsAndValues) {
        List<FieldViolation> violations = new ArrayList<>();
        for (int i = 0; i < fieldsAndValues.length; i += 2) {
            optionalId(violations, fieldsAndValues[i], fieldsAndValues[i + 1]);
        }
        throwIfAny(violations);
    }

    public static void throwIfAny(List<FieldViolation> violations) {
        if (!violations.isEmpty()) {
            throw new InvalidAuditRequestException(violations);
        }
    }
}
