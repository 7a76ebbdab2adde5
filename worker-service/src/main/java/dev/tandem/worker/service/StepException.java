package dev.tandem.worker.service;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.tandem.grpc.FieldViolation;

/**
 * A step that cannot run, with the reason in gRPC terms; the gRPC layer turns it into a status with a
 * {@code google.rpc.BadRequest} detail when there are field violations, a {@code google.rpc.RetryInfo} when the
 * provider asked to wait, and a {@code google.rpc.ErrorInfo} naming the model when a provider failed.
 */
public class StepException extends RuntimeException {

    /** Why a step cannot run. */
    public enum Reason {
        INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, DEADLINE_EXCEEDED, INTERNAL,
        /** The model's provider rate-limits us (HTTP 429): try another backend or wait {@link #retryAfter()}. */
        RESOURCE_EXHAUSTED,
        /** The model's provider is down or unreachable: try another backend. */
        UNAVAILABLE,
        /** The model's API key is missing or wrong. */
        UNAUTHENTICATED,
        /** The model's API key may not use this model. */
        PERMISSION_DENIED,
        /** The caller cancelled the call: the work in flight was stopped. */
        CANCELLED
    }

    /** Machine-readable cause: {@code reason} such as {@code RATE_LIMITED} plus metadata (model, http_status). */
    public record ErrorInfo(String reason, Map<String, String> metadata) {
        public ErrorInfo {
            metadata = Map.copyOf(metadata);
        }
    }

    private final Reason reason;
    private final List<FieldViolation> violations;
    private final Duration retryAfter;
    private final ErrorInfo errorInfo;

    public StepException(Reason reason, String message, List<FieldViolation> violations, Duration retryAfter,
                         ErrorInfo errorInfo, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.violations = List.copyOf(violations);
        this.retryAfter = retryAfter;
        this.errorInfo = errorInfo;
    }

    public StepException(Reason reason, String message, List<FieldViolation> violations) {
        this(reason, message, violations, null, null, null);
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

    /** How long the provider asked callers to wait, when it did. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    public Optional<ErrorInfo> errorInfo() {
        return Optional.ofNullable(errorInfo);
    }
}
