package dev.tandem.worker.service;

import dev.tandem.models.ModelSpec;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.worker.service.StepException.Reason;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;

/**
 * Provider failures as worker statuses the router can act on: RATE_LIMITED → RESOURCE_EXHAUSTED (with the
 * provider's Retry-After), UNAVAILABLE → UNAVAILABLE, TIMEOUT → DEADLINE_EXCEEDED (all three: fail over),
 * CANCELLED (the caller gave up) → CANCELLED,
 * BAD_REQUEST and UNSUPPORTED → FAILED_PRECONDITION (this backend cannot do this request: do not retry),
 * AUTH → UNAUTHENTICATED (401, no key) or PERMISSION_DENIED (403). Messages name the model and carry the
 * provider's (redacted) message, never a key.
 */
public final class ModelFailures {

    private ModelFailures() {
    }

    public static StepException toStep(ModelCallException e, ModelSpec model) {
        var reason = switch (e.kind()) {
            case RATE_LIMITED -> Reason.RESOURCE_EXHAUSTED;
            case UNAVAILABLE -> Reason.UNAVAILABLE;
            case TIMEOUT -> Reason.DEADLINE_EXCEEDED;
            case CANCELLED -> Reason.CANCELLED;
            case BAD_REQUEST, UNSUPPORTED -> Reason.FAILED_PRECONDITION;
            case AUTH -> e.httpStatus() == 403 ? Reason.PERMISSION_DENIED : Reason.UNAUTHENTICATED;
        };
        var metadata = new LinkedHashMap<String, String>();
        metadata.put("model", model.id());
        metadata.put("provider", model.provider().name().toLowerCase(Locale.ROOT));
        if (e.httpStatus() > 0) {
            metadata.put("http_status", Integer.toString(e.httpStatus()));
        }
        e.retryAfter().ifPresent(d -> metadata.put("retry_after_ms", Long.toString(d.toMillis())));
        var message = e.getMessage() + e.retryAfter().map(d -> " (retry after " + d.toMillis() + " ms)").orElse("");
        return new StepException(reason, message, List.of(), e.retryAfter().orElse(null),
                new StepException.ErrorInfo(e.kind().name(), metadata), null);
    }
}
