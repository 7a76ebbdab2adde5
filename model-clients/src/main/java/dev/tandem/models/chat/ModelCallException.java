package dev.tandem.models.chat;

import java.time.Duration;
import java.util.Optional;

/**
 * A failed model call, classified so the caller knows whether another try (here or elsewhere) can help.
 * The message names the model and carries the provider's error text, with any API key redacted; it never
 * contains a key.
 */
public final class ModelCallException extends RuntimeException {

    /** What went wrong, in terms of what to do about it. */
    public enum Kind {
        /** HTTP 429: slow down; {@link #retryAfter()} says for how long when the provider said so. */
        RATE_LIMITED,
        /** HTTP 5xx/529, refused or reset connection, malformed response: try another backend. */
        UNAVAILABLE,
        /** The call took longer than the configured timeout (or HTTP 408). */
        TIMEOUT,
        /** Another 4xx: the provider rejected this request; retrying it unchanged will fail again. */
        BAD_REQUEST,
        /** HTTP 401/403: the key is missing, wrong or lacks permission for this model. */
        AUTH,
        /** The backend cannot serve this request as configured (replay: question not recorded, dataset missing). */
        UNSUPPORTED,
        /** The caller gave up (its call was cancelled): the request was aborted and nobody waits for an answer. */
        CANCELLED
    }

    private final Kind kind;
    private final String modelId;
    private final int httpStatus;
    private final Duration retryAfter;
    private final String providerMessage;

    public ModelCallException(Kind kind, String modelId, String summary, int httpStatus, Duration retryAfter,
                              String providerMessage, Throwable cause) {
        super("model " + modelId + ": " + summary + (providerMessage == null || providerMessage.isBlank() ? ""
                : ": " + providerMessage), cause);
        this.kind = kind;
        this.modelId = modelId;
        this.httpStatus = httpStatus;
        this.retryAfter = retryAfter;
        this.providerMessage = providerMessage == null ? "" : providerMessage;
    }

    public ModelCallException(Kind kind, String modelId, String summary) {
        this(kind, modelId, summary, 0, null, "", null);
    }

    public Kind kind() {
        return kind;
    }

    public String modelId() {
        return modelId;
    }

    /** The HTTP status the provider answered with, 0 when there was no HTTP answer. */
    public int httpStatus() {
        return httpStatus;
    }

    /** How long the provider asked us to wait (Retry-After / retry-after-ms), when it did. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /** The provider's own error message (redacted), possibly empty. */
    public String providerMessage() {
        return providerMessage;
    }

    /** Whether another backend may succeed where this one failed. */
    public boolean transientFailure() {
        return kind == Kind.RATE_LIMITED || kind == Kind.UNAVAILABLE || kind == Kind.TIMEOUT;
    }
}
