package dev.tandem.oracle.service;

/** One thing wrong with a request, at a field path such as {@code plan.steps[2].depends_on[0]}. */
public record FieldViolation(String field, String description) {
}
