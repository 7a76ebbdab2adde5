package dev.tandem.grpc;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The router's "backends unavailable" answer is told apart from an unreachable router, also after the wire. */
class BackendsUnavailableTests {

    @Test
    void theAnswerIsUnavailableWithItsErrorInfo() {
        var answer = BackendsUnavailable.status("solve failed on every candidate tried (2 attempts)");

        assertThat(answer.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(answer.getStatus().getDescription()).contains("every candidate");
        assertThat(BackendsUnavailable.isAnswer(answer)).isTrue();
        // as a client receives it: only the status and the trailers cross the wire
        var received = Status.UNAVAILABLE.withDescription(answer.getStatus().getDescription())
                .asRuntimeException(answer.getTrailers());
        assertThat(BackendsUnavailable.isAnswer(received)).isTrue();
    }

    @Test
    void anUnreachableRouterIsNotTheAnswer() {
        assertThat(BackendsUnavailable.isAnswer(Status.UNAVAILABLE.withDescription("io exception")
                .asRuntimeException())).isFalse();
        assertThat(BackendsUnavailable.isAnswer(Status.UNAVAILABLE.asRuntimeException(new Metadata()))).isFalse();
    }

    @Test
    void anotherCodeOrAnotherServicesErrorInfoIsNotTheAnswer() {
        assertThat(BackendsUnavailable.isAnswer(errorInfo(Code.INTERNAL, BackendsUnavailable.REASON,
                BackendsUnavailable.DOMAIN))).isFalse();
        assertThat(BackendsUnavailable.isAnswer(errorInfo(Code.UNAVAILABLE, BackendsUnavailable.REASON,
                "example.com"))).isFalse();
        assertThat(BackendsUnavailable.isAnswer(errorInfo(Code.UNAVAILABLE, "MAINTENANCE",
                BackendsUnavailable.DOMAIN))).isFalse();
    }

    private static StatusRuntimeException errorInfo(Code code, String reason, String domain) {
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder().setCode(code.getNumber())
                .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain(domain).build())).build());
    }
}
