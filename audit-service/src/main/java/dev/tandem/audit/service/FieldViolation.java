package dev.tandem.audit.service;

/** One invalid request field: its name as in the contract and what is wrong with it. */
public record FieldViolation(String field, String description) {
}
