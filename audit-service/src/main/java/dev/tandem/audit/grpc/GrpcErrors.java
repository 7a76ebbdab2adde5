package dev.tandem.audit.grpc;

import org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException;
import org.jboss.logging.Logger;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

import dev.tandem.audit.service.ConflictingVerdictException;
import dev.tandem.audit.service.InvalidAuditRequestException;
import dev.tandem.audit.service.LeaseHeldException;
import dev.tandem.audit.service.LedgerUnavailableException;
import dev.tandem.audit.service.NotFoundException;

/** Maps service failures to gRPC statuses; never a bare UNKNOWN. */
final class GrpcErrors {

    private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

    private GrpcErrors() {
    }

    static StatusRuntimeException toStatus(Throwable failure) {
        if (failure instanceof StatusRuntimeException sre) {
            return sre;
        }
        if (failure instanceof InvalidAuditRequestException invalid) {
            BadRequest.Builder badRequest = BadRequest.newBuilder();
            invalid.violations().forEach(v -> badRequest.addFieldViolations(BadRequest.FieldViolation.newBuilder()
                    .setField(v.field()).setDescription(v.description())));
            return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                    .setCode(Code.INVALID_ARGUMENT_VALUE)
                    .setMessage(invalid.getMessage())
                    .addDetails(Any.pack(badRequest.build()))
                    .build());
        }
        if (failure instanceof NotFoundException) {
            return Status.NOT_FOUND.withDescription(failure.getMessage()).asRuntimeException();
        }
        if (failure instanceof ConflictingVerdictException || failure instanceof LeaseHeldException) {
            return Status.FAILED_PRECONDITION.withDescription(failure.getMessage()).asRuntimeException();
        }
        if (failure instanceof LedgerUnavailableException) {
            LOG.warnf("ledger unavailable: %s", failure.getMessage());
            return Status.UNAVAILABLE.withDescription("audit ledger unavailable; the call was not recorded and may "
                    + "be retried").withCause(failure).asRuntimeException();
        }
        if (failure instanceof TimeoutException) {
            return Status.UNAVAILABLE.withDescription("audit ledger did not answer in time; retry with the same "
                    + "decision_id").withCause(failure).asRuntimeException();
        }
        LOG.error("audit call failed", failure);
        return Status.INTERNAL.withDescription("audit service error: " + failure.getClass().getSimpleName())
                .withCause(failure).asRuntimeException();
    }
}
