package dev.tandem.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * The router's answer when it is healthy but no backend can take the step (every candidate failed or its circuit is
 * open): UNAVAILABLE, as for a router that cannot be reached, so that callers retry later, with a
 * {@code google.rpc.ErrorInfo} (reason {@value #REASON}, domain {@value #DOMAIN}) that tells the two apart. A
 * caller's circuit breaker on the router must count only the unreachable router: counting this answer let one
 * backend's failures (a worker connection reset under CPU starvation) open the oracle's router breaker, which then
 * failed every task, on every backend, for its delay.
 */
public final class BackendsUnavailable {

    public static final String REASON = "BACKENDS_UNAVAILABLE";
    public static final String DOMAIN = "router.tandem.dev";

    private BackendsUnavailable() {
    }

    /** UNAVAILABLE with the message and the ErrorInfo. */
    public static StatusRuntimeException status(String message) {
        return StatusProto.toStatusRuntimeException(Status.newBuilder()
                .setCode(Code.UNAVAILABLE_VALUE)
                .setMessage(message)
                .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(REASON).setDomain(DOMAIN).build()))
                .build());
    }

    /** True when the status is the router's own answer that its backends are unavailable. */
    public static boolean isAnswer(StatusRuntimeException e) {
        if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE) {
            return false;
        }
        Status status = StatusProto.fromThrowable(e);
        if (status == null) {
            return false;
        }
        for (Any detail : status.getDetailsList()) {
            if (detail.is(ErrorInfo.class)) {
                try {
                    ErrorInfo info = detail.unpack(ErrorInfo.class);
                    if (REASON.equals(info.getReason()) && DOMAIN.equals(info.getDomain())) {
                        return true;
                    }
                } catch (InvalidProtocolBufferException ignored) {
                    // a malformed detail is not our answer
                }
            }
        }
        return false;
    }
}
