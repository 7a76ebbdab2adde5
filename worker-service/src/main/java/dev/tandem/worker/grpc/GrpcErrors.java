package dev.tandem.worker.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import dev.tandem.grpc.BadRequestDetail;
import dev.tandem.grpc.TrailerBudget;
import dev.tandem.worker.service.StepException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.jboss.logging.Logger;

/**
 * Turns the worker's failures into gRPC statuses with details, so a caller never sees a bare UNKNOWN (statuses
 * themselves pass through the CallRunner).
 */
final class GrpcErrors {

    private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

    private GrpcErrors() {
    }

    static StatusRuntimeException toStatus(Throwable failure) {
        if (failure instanceof StepException step) {
            // the message and the violations quote the request or the provider, at any length
            var fitted = TrailerBudget.fit(step.getMessage(), step.violations());
            var status = Status.newBuilder().setCode(code(step.reason()).getNumber()).setMessage(fitted.message());
            if (!fitted.violations().isEmpty()) {
                status.addDetails(BadRequestDetail.of(fitted.violations()));
            }
            step.retryAfter().ifPresent(wait -> status.addDetails(Any.pack(RetryInfo.newBuilder()
                    .setRetryDelay(Duration.newBuilder().setSeconds(wait.getSeconds())
                            .setNanos(wait.getNano())).build())));
            step.errorInfo().ifPresent(info -> status.addDetails(Any.pack(ErrorInfo.newBuilder()
                    .setReason(info.reason()).setDomain("tandem.dev").putAllMetadata(info.metadata()).build())));
            return StatusProto.toStatusRuntimeException(status.build());
        }
        LOG.error("Step failed unexpectedly", failure);
        return StatusProto.toStatusRuntimeException(Status.newBuilder()
                .setCode(Code.INTERNAL.getNumber())
                .setMessage(TrailerBudget.description("worker failed: " + failure.getClass().getSimpleName() + ": "
                        + failure.getMessage()))
                .build());
    }

    private static Code code(StepException.Reason reason) {
        return switch (reason) {
            case INVALID_ARGUMENT -> Code.INVALID_ARGUMENT;
            case NOT_FOUND -> Code.NOT_FOUND;
            case FAILED_PRECONDITION -> Code.FAILED_PRECONDITION;
            case DEADLINE_EXCEEDED -> Code.DEADLINE_EXCEEDED;
            case INTERNAL -> Code.INTERNAL;
            case RESOURCE_EXHAUSTED -> Code.RESOURCE_EXHAUSTED;
            case UNAVAILABLE -> Code.UNAVAILABLE;
            case UNAUTHENTICATED -> Code.UNAUTHENTICATED;
            case PERMISSION_DENIED -> Code.PERMISSION_DENIED;
            case CANCELLED -> Code.CANCELLED;
        };
    }
}
