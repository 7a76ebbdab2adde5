package dev.tandem.oracle.service;

import dev.tandem.models.chat.ModelCallException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A failed call to the oracle's own model (planning, synthesis) as the task's status: the client learns whether
 * retrying can help. RATE_LIMITED → RESOURCE_EXHAUSTED, UNAVAILABLE → UNAVAILABLE, TIMEOUT → DEADLINE_EXCEEDED,
 * CANCELLED (the caller gave up) → CANCELLED;
 * the rest are configuration problems of this oracle (FAILED_PRECONDITION): the client cannot fix them.
 */
final class OracleModelFailures {

    private OracleModelFailures() {
    }

    static StatusRuntimeException toStatus(String what, ModelCallException e) {
        var status = switch (e.kind()) {
            case RATE_LIMITED -> Status.RESOURCE_EXHAUSTED;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case TIMEOUT -> Status.DEADLINE_EXCEEDED;
            case CANCELLED -> Status.CANCELLED;
            case BAD_REQUEST, UNSUPPORTED, AUTH -> Status.FAILED_PRECONDITION;
        };
        return status.withDescription(what + " failed: " + e.getMessage()
                + e.retryAfter().map(d -> " (retry after " + d.toMillis() + " ms)").orElse("")).asRuntimeException();
    }
}
