package dev.tandem.worker.service;

import java.util.List;

/**
 * A step that cannot run, with the reason in gRPC terms; the gRPC layer turns it into a status with a
 * {@code google.rpc.BadRequest} detail when there are field violations.
 */
public class StepException extends RuntimeException {

    /** Why a step cannot run. */
    public enum Reason { INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, DEADLINE_EXCEEDED, INTERNAL }

    /** One offending request field, for example {@code inputs.text}. */
    public record FieldViolation(String field, String description) {
    }

    private final Reason reason;
    private final List<FieldViolation> violations;

    public StepException(Reason reason, String message, List<FieldViolation> violations) {
        super(message);
        this.reason = reason;
        this.violations = List.copyOf(violations);
    }

    public StepException(Reason reason, String message) {
        this(reason, message, List.of());
    }

    public static StepException invalid(List<FieldViolation> violations) {
        var first = violations.getFirst();
        var message = violations.size() == 1 ? first.field() + ": " + first.description()
                : violations.size() + " invalid fields, first " + first.field() + ": " + first.description();
        return new StepException(Reason.INVALID_ARGUMENT, message, violations);
    }

    public Reason reason() {
        return reason;
    }

    public List<FieldViolation> violations() {
        return violations;
    }
}
