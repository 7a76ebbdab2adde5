package dev.tandem.models.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.models.chat.ModelCallException.Kind;

import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** What the provider clients share to turn HTTP and I/O failures into {@link ModelCallException}s. */
public final class ProviderErrors {

    /** Masked key echoes such as OpenAI's "Incorrect API key provided: sk-abc*****wxyz". */
    private static final Pattern MASKED_KEY = Pattern.compile("[A-Za-z0-9_\\-]*\\*{3,}[A-Za-z0-9_\\-]*");
    private static final int MAX_MESSAGE = 500;

    private ProviderErrors() {
    }

    /** The kind of failure an HTTP status stands for. */
    public static Kind kindOf(int status) {
        if (status == 429) {
            return Kind.RATE_LIMITED;
        }
        if (status == 401 || status == 403) {
            return Kind.AUTH;
        }
        if (status == 408) {
            return Kind.TIMEOUT;
        }
        if (status >= 500) {
            return Kind.UNAVAILABLE;
        }
        return Kind.BAD_REQUEST;
    }

    /** A short description of an HTTP failure for the exception summary. */
    public static String summaryOf(int status, Kind kind) {
        return switch (kind) {
            case RATE_LIMITED -> "rate limited (HTTP " + status + ")";
            case AUTH -> "not authorised (HTTP " + status + "): check the model's API key";
            case TIMEOUT -> "request timeout (HTTP " + status + ")";
            case UNAVAILABLE -> "provider unavailable (HTTP " + status + ")";
            case BAD_REQUEST -> "request rejected (HTTP " + status + ")";
            case UNSUPPORTED -> "unsupported (HTTP " + status + ")";
            case CANCELLED -> "cancelled (HTTP " + status + ")";
        };
    }

    /** The failure for an HTTP error answer: kind and summary from the status, the provider's Retry-After. */
    public static ModelCallException httpFailure(String modelId, int status, String redactedMessage,
                                                 List<String> retryAfterMs, List<String> retryAfter) {
        var kind = kindOf(status);
        return new ModelCallException(kind, modelId, summaryOf(status, kind), status,
                retryAfter(retryAfterMs, retryAfter).orElse(null), redactedMessage, null);
    }

    /**
     * The wait a provider asked for: {@code retry-after-ms} (OpenAI), else {@code retry-after} in seconds or as an
     * HTTP date.
     */
    public static Optional<Duration> retryAfter(List<String> retryAfterMs, List<String> retryAfter) {
        for (var value : retryAfterMs) {
            try {
                return Optional.of(Duration.ofMillis(Math.round(Double.parseDouble(value.strip()))));
            } catch (NumberFormatException ignored) {
                // fall through to Retry-After
            }
        }
        for (var value : retryAfter) {
            var v = value.strip();
            try {
                return Optional.of(Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000)));
            } catch (NumberFormatException notSeconds) {
                try {
                    var at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                    var wait = Duration.between(ZonedDateTime.now(at.getZone()), at);
                    return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
                } catch (DateTimeParseException ignored) {
                    // unusable header: no hint
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The human-readable message of a provider error body: OpenAI and Anthropic {@code {"error": {"message"}}},
     * vLLM {@code {"message"}}, TGI {@code {"error": "..."}}, FastAPI {@code {"detail"}}; else the body text.
     */
    public static String messageOf(JsonNode body) {
        if (body == null || body.isNull() || body.isMissingNode()) {
            return "";
        }
        if (body.isTextual()) {
            return body.asText();
        }
        var error = body.path("error");
        if (error.isTextual()) {
            return error.asText();
        }
        if (error.path("message").isTextual()) {
            return error.path("message").asText();
        }
        if (body.path("message").isTextual()) {
            return body.path("message").asText();
        }
        if (body.path("detail").isTextual()) {
            return body.path("detail").asText();
        }
        return body.toString();
    }

    /** A provider message made safe to log and return: the key and any masked echo of it removed, bounded. */
    public static String redact(String message, Optional<String> key) {
        if (message == null) {
            return "";
        }
        var out = message;
        if (key.isPresent() && !key.get().isEmpty()) {
            out = out.replace(key.get(), "[redacted]");
        }
        out = MASKED_KEY.matcher(out).replaceAll("[redacted]");
        return out.length() > MAX_MESSAGE ? out.substring(0, MAX_MESSAGE) + "…" : out;
    }

    /** Classifies an I/O failure under the SDK's wrapper: timeouts versus unreachable servers. */
    public static ModelCallException io(String modelId, Throwable failure, Duration requestTimeout) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SocketTimeoutException || t instanceof InterruptedIOException
                    && !(t instanceof ClosedByInterruptException)) {
                return new ModelCallException(Kind.TIMEOUT, modelId, "no answer within " + requestTimeout,
                        0, null, "", failure);
            }
            if (t instanceof ConnectException || t instanceof NoRouteToHostException
                    || t instanceof UnknownHostException) {
                return new ModelCallException(Kind.UNAVAILABLE, modelId, "cannot connect ("
                        + t.getClass().getSimpleName() + ": " + t.getMessage() + ")", 0, null, "", failure);
            }
        }
        return new ModelCallException(Kind.UNAVAILABLE, modelId, "I/O failure ("
                + failure.getClass().getSimpleName() + ": " + failure.getMessage() + ")", 0, null, "", failure);
    }
}
