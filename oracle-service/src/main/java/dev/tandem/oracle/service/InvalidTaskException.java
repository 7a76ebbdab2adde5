package dev.tandem.oracle.service;

import dev.tandem.grpc.FieldViolation;

import java.util.List;

/** A task or plan that cannot run as given; the gRPC layer turns it into INVALID_ARGUMENT with a BadRequest. */
public class InvalidTaskException extends RuntimeException {

    private final transient List<FieldViolation> violations;

    public InvalidTaskException(String message, List<FieldViolation> violations) {
        super(message);
        this.violations = List.copyOf(violations);
    }

    public static InvalidTaskException of(String field, String description) {
        return new InvalidTaskException(description, List.of(new FieldViolation(field, description)));
    }

    public List<FieldViolation> violations() {
        return violations;
    }
}
