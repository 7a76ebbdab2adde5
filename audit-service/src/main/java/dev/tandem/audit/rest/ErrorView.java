package dev.tandem.audit.rest;

import java.util.List;

import dev.tandem.grpc.FieldViolation;

/** An admin API error: a message and, for bad input, the offending fields. */
public record ErrorView(String error, List<FieldViolation> violations) {
}
