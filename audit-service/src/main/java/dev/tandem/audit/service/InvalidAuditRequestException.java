package dev.tandem.audit.service;

import java.util.List;

import dev.tandem.grpc.FieldViolation;

/** The request breaks the contract; carries every field violation found. */
public class InvalidAuditRequestException extends RuntimeException {

    private final List<FieldViolation> violations;

    public InvalidAuditRequestException(List<FieldViolation> violations) {
        super("invalid request: " + violations.stream().map(v -> v.field() + " " + v.description()).toList());
        this.violations = List.copyOf(violations);
    }

    public List<FieldViolation> violations() {
        return violations;
    }
}
