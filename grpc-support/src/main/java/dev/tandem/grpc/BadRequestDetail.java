package dev.tandem.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

import java.util.List;

/**
 * The {@code google.rpc.BadRequest} detail every service attaches to a refused request, one field violation per
 * offending field, so that a client finds them in the status trailers the same way whichever service it called.
 */
public final class BadRequestDetail {

    private BadRequestDetail() {
    }

    /** The violations as a status detail, for a status that carries other details too. */
    public static Any of(List<FieldViolation> violations) {
        var badRequest = BadRequest.newBuilder();
        violations.forEach(v -> badRequest.addFieldViolations(BadRequest.FieldViolation.newBuilder()
                .setField(v.field()).setDescription(v.description())));
        return Any.pack(badRequest.build());
    }

    /**
     * {@code INVALID_ARGUMENT} with the message and the violations in its trailers, cut to fit what a client accepts
     * ({@link TrailerBudget}: refusals quote the request, and a grpc-java client refuses trailers over 8 KiB).
     */
    public static StatusRuntimeException invalidArgument(String message, List<FieldViolation> violations) {
        var fitted = TrailerBudget.fit(message, violations);
        return StatusProto.toStatusRuntimeException(Status.newBuilder()
                .setCode(Code.INVALID_ARGUMENT_VALUE)
                .setMessage(fitted.message())
                .addDetails(of(fitted.violations()))
                .build());
    }
}
