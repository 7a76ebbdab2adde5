package dev.tandem.router.grpc;

import java.util.ArrayList;
import java.util.List;

import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import dev.tandem.router.service.RoutingFailedException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/** Builds gRPC errors: field violations for bad input, the right code for every routing failure. */
final class GrpcErrors {

    private GrpcErrors() {
    }

    /** Collects field violations of one request. */
    static final class Violations {
        private final List<BadRequest.FieldViolation> violations = new ArrayList<>();

        Violations requireNonBlank(String field, String value) {
            if (value == null || value.isBlank()) {
                add(field, "must not be empty");
            }
            return this;
        }

        Violations add(String field, String description) {
            violations.add(BadRequest.FieldViolation.newBuilder().setField(field).setDescription(description).build());
            return this;
        }

        void throwIfAny() {
            if (violations.isEmpty()) {
                return;
            }
            StringBuilder message = new StringBuilder("invalid request: ");
            for (int i = 0; i < violations.size(); i++) {
                if (i > 0) {
                    message.append("; ");
                }
                message.append(violations.get(i).getField()).append(' ').append(violations.get(i).getDescription());
            }
            com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                    .setCode(Code.INVALID_ARGUMENT.getNumber())
                    .setMessage(message.toString())
                    .addDetails(com.google.protobuf.Any.pack(BadRequest.newBuilder().addAllFieldViolations(violations)
                            .build()))
                    .build();
            throw StatusProto.toStatusRuntimeException(status);
        }
    }

    static StatusRuntimeException of(RoutingFailedException e) {
        Status status = switch (e.kind()) {
            case NO_CANDIDATE -> Status.FAILED_PRECONDITION;
            case POOLS_FULL -> Status.RESOURCE_EXHAUSTED;
            case BACKENDS_FAILED -> Status.UNAVAILABLE;
            case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
        };
        return status.withDescription(e.getMessage()).asRuntimeException();
    }

    /** Any failure as a gRPC status; never a bare UNKNOWN. */
    static StatusRuntimeException of(Throwable t) {
        if (t instanceof StatusRuntimeException sre) {
            return sre;
        }
        if (t instanceof io.grpc.StatusException se) {
            return se.getStatus().asRuntimeException(se.getTrailers());
        }
        if (t instanceof RoutingFailedException rfe) {
            return of(rfe);
        }
        return Status.INTERNAL.withDescription("router failure: " + t).withCause(t).asRuntimeException();
    }
}
