package dev.tandem.worker;

import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.assertj.core.api.ThrowableAssert;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Helpers to assert gRPC failures and their {@code google.rpc.BadRequest} details. */
final class GrpcAssertions {

    private GrpcAssertions() {
    }

    /** Runs a call that must fail with the given code; returns the field names of its BadRequest detail. */
    static List<String> failsWith(Status.Code code, ThrowableAssert.ThrowingCallable call) {
        var failure = catchThrowableOfType(StatusRuntimeException.class, call);
        assertThat(failure).as("expected a %s failure", code).isNotNull();
        assertThat(failure.getStatus().getCode()).isEqualTo(code);
        var status = StatusProto.fromThrowable(failure);
        if (status == null) {
            return List.of();
        }
        return status.getDetailsList().stream().filter(d -> d.is(BadRequest.class)).flatMap(d -> {
            try {
                return d.unpack(BadRequest.class).getFieldViolationsList().stream()
                        .map(BadRequest.FieldViolation::getField);
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }
}
