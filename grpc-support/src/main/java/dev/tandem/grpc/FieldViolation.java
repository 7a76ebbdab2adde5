package dev.tandem.grpc;

/**
 * One offending request field, named as in the contract (for example {@code inputs.text} or
 * {@code plan.steps[2].depends_on[0]}), and what is wrong with it. The services' validation collects these, their
 * gRPC layer answers them as a {@code google.rpc.BadRequest} ({@link BadRequestDetail}) and their REST error views
 * show them as they are; one type so that the three layers do not each keep a copy.
 */
public record FieldViolation(String field, String description) {
}
