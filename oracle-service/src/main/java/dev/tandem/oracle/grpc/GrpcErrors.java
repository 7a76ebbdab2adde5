package dev.tandem.oracle.grpc;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import dev.tandem.oracle.service.InvalidTaskException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.jboss.logging.Logger;

/** Maps what the service layer throws to gRPC statuses; never a bare UNKNOWN. */
final class GrpcErrors {

    private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

    private GrpcErrors() {
    }

    static StatusRuntimeException toStatus(Throwable e) {
        if (e instanceof InvalidTaskException invalid) {
            var badRequest = BadRequest.newBuilder();
            invalid.violations().forEach(v -> badRequest.addFieldViolations(
                    BadRequest.FieldViolation.newBuilder().setField(v.field()).setDescription(v.description())));
            return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                    .setCode(Code.INVALID_ARGUMENT_VALUE)
                    .setMessage(invalid.getMessage())
                    .addDetails(Any.pack(badRequest.build()))
                    .build());
        }
        if (e instanceof StatusRuntimeException sre) {
            return sre;
        }
        LOG.error("unexpected failure", e);
        return Status.INTERNAL.withDescription(String.valueOf(e.getMessage())).withCause(e).asRuntimeException();
    }
}
