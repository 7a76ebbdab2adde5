package dev.tandem.oracle.client;

import dev.tandem.grpc.BackendsUnavailable;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.EnumSet;
import java.util.Set;

/**
 * A downstream answer that says the request was refused, that the router's backends are unavailable, or that the
 * caller's own deadline ended the call, not that the service is unhealthy. The clients' circuit breakers skip it
 * ({@code skipOn}): load shedding (RESOURCE_EXHAUSTED), expired task deadlines or the router's "no backend"
 * answers counted as failures opened the router breaker under load, and an open breaker then answered UNAVAILABLE
 * to every task for its delay, turning an overload, or one backend's failures, into an outage.
 * Callers still see a {@link StatusRuntimeException} with the same status and trailers.
 */
public final class RefusedCallException extends StatusRuntimeException {

    /** Codes that describe the request or the caller, not the server's health. */
    private static final Set<Status.Code> REFUSALS = EnumSet.of(Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND,
            Status.Code.ALREADY_EXISTS, Status.Code.FAILED_PRECONDITION, Status.Code.OUT_OF_RANGE,
            Status.Code.PERMISSION_DENIED, Status.Code.UNAUTHENTICATED, Status.Code.RESOURCE_EXHAUSTED,
            Status.Code.CANCELLED);

    /** Refusals of the request itself: sending the same request again can never succeed. */
    private static final Set<Status.Code> PERMANENT = EnumSet.of(Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND,
            Status.Code.ALREADY_EXISTS, Status.Code.FAILED_PRECONDITION, Status.Code.OUT_OF_RANGE);

    private RefusedCallException(StatusRuntimeException refused) {
        super(refused.getStatus(), refused.getTrailers()); // the status's own cause becomes this one's
        setStackTrace(refused.getStackTrace());
    }

    /** True when the request itself was refused (bad input, unknown id): retrying or re-sending it is pointless. */
    public boolean permanent() {
        return PERMANENT.contains(getStatus().getCode());
    }

    /**
     * The exception to throw for a failed call: a {@code RefusedCallException} when the status is a refusal, the
     * router's own answer that its backends are unavailable ({@link BackendsUnavailable}: the router is healthy), or
     * DEADLINE_EXCEEDED once the caller's own deadline has passed; otherwise the original (a real failure).
     */
    public static StatusRuntimeException classify(StatusRuntimeException e, Deadline callerDeadline) {
        Status.Code code = e.getStatus().getCode();
        boolean callersDeadline = code == Status.Code.DEADLINE_EXCEEDED && callerDeadline != null
                && callerDeadline.isExpired();
        return REFUSALS.contains(code) || callersDeadline || BackendsUnavailable.isAnswer(e)
                ? new RefusedCallException(e) : e;
    }
}
