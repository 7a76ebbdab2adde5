package dev.tandem.audit.grpc;

import java.util.List;

import org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException;
import org.jboss.logging.Logger;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import dev.tandem.audit.repository.LedgerRefusedException;
import dev.tandem.audit.repository.LedgerUnavailableException;
import dev.tandem.audit.service.ConflictingVerdictException;
import dev.tandem.audit.service.InvalidAuditRequestException;
import dev.tandem.audit.service.LeaseHeldException;
import dev.tandem.audit.service.NotFoundException;
import dev.tandem.grpc.BadRequestDetail;
import dev.tandem.grpc.FieldViolation;

/** Maps the audit's own failures to gRPC statuses (statuses pass through the CallRunner); never a bare UNKNOWN. */
final class GrpcErrors {

    private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

    private GrpcErrors() {
    }

    static StatusRuntimeException toStatus(Throwable failure) {
        if (failure instanceof InvalidAuditRequestException invalid) {
            return BadRequestDetail.invalidArgument(invalid.getMessage(), invalid.violations());
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
        if (failure instanceof LedgerRefusedException refused) {
            // permanent, so that a caller neither retries it nor queues it for later (the oracle's reconciliation
            // would stop at it and hold back every record behind it)
            LOG.error(refused.getMessage(), refused);
            return BadRequestDetail.invalidArgument(refused.getMessage(), List.of(new FieldViolation("request",
                    "the ledger cannot store it: " + refused.databaseMessage())));
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
