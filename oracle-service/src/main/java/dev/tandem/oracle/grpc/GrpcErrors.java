package dev.tandem.oracle.grpc;

import dev.tandem.grpc.BadRequestDetail;
import dev.tandem.oracle.repository.TaskStoreUnavailableException;
import dev.tandem.oracle.service.InvalidTaskException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.jboss.logging.Logger;

/** Maps what the service layer throws to gRPC statuses (statuses pass through the CallRunner); never a bare UNKNOWN. */
final class GrpcErrors {

    private static final Logger LOG = Logger.getLogger(GrpcErrors.class);

    private GrpcErrors() {
    }

    static StatusRuntimeException toStatus(Throwable e) {
        if (e instanceof InvalidTaskException invalid) {
            return BadRequestDetail.invalidArgument(invalid.getMessage(), invalid.violations());
        }
        if (e instanceof TaskStoreUnavailableException store) {
            LOG.warn(store.getMessage());
            return Status.UNAVAILABLE.withDescription("submitted tasks are unavailable: their store cannot be reached; "
                    + "retry later").asRuntimeException();
        }
        LOG.error("unexpected failure", e);
        return Status.INTERNAL.withDescription(String.valueOf(e.getMessage())).withCause(e).asRuntimeException();
    }
}
