package dev.tandem.router.grpc;

import dev.tandem.grpc.BackendsUnavailable;
import dev.tandem.router.dispatch.RoutingFailedException;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The router's statuses for routing failures, as the oracle's and the audit's clients read them. */
class GrpcErrorsTests {

    @Test
    void everyBackendFailedIsUnavailableMarkedAsTheRoutersOwnAnswer() {
        var e = GrpcErrors.of(new RoutingFailedException(RoutingFailedException.Kind.BACKENDS_FAILED,
                "dispatch of solve failed on every candidate tried (2 attempts)"));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("every candidate tried");
        // a caller's breaker on the router must not count it: the router is healthy, its backends are not
        assertThat(BackendsUnavailable.isAnswer(e)).isTrue();
    }

    @Test
    void anInternalFailureIsNotMarked() {
        var e = GrpcErrors.of(new IllegalStateException("bug"));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(BackendsUnavailable.isAnswer(e)).isFalse();
    }
}
