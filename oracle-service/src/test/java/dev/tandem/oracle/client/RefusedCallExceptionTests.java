package dev.tandem.oracle.client;

import dev.tandem.grpc.BackendsUnavailable;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Which downstream failures the clients' breakers skip, and that the caller still sees the same status. */
class RefusedCallExceptionTests {

    private static final Metadata.Key<String> DETAIL = Metadata.Key.of("detail", Metadata.ASCII_STRING_MARSHALLER);

    @Test
    void aRefusalKeepsItsStatusTrailersAndCause() {
        var trailers = new Metadata();
        trailers.put(DETAIL, "shed");
        var cause = new RuntimeException("queue full");
        var shed = Status.RESOURCE_EXHAUSTED.withDescription("router at capacity").withCause(cause)
                .asRuntimeException(trailers);

        StatusRuntimeException classified = RefusedCallException.classify(shed, null);

        assertThat(classified).isInstanceOf(RefusedCallException.class);
        assertThat(classified.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(classified.getStatus().getDescription()).isEqualTo("router at capacity");
        assertThat(classified.getTrailers().get(DETAIL)).isEqualTo("shed");
        assertThat(classified.getCause()).isSameAs(cause);
    }

    @Test
    void anUnhealthyRouterIsAFailure() {
        for (var code : new Status.Code[] { Status.Code.UNAVAILABLE, Status.Code.INTERNAL, Status.Code.UNKNOWN }) {
            var e = Status.fromCode(code).asRuntimeException();
            assertThat(RefusedCallException.classify(e, null)).as("%s", code).isSameAs(e);
        }
    }

    @Test
    void theRoutersAnswerThatItsBackendsAreUnavailableIsARefusalThatMayBeRetried() {
        var answer = BackendsUnavailable.status("solve failed on every candidate tried (2 attempts)");

        var classified = RefusedCallException.classify(answer, null);

        assertThat(classified).isInstanceOf(RefusedCallException.class);
        assertThat(classified.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(((RefusedCallException) classified).permanent()).isFalse();
    }

    @Test
    void anExpiredDeadlineIsTheCallersOnlyWhenTheCallersDeadlinePassed() {
        var timedOut = Status.DEADLINE_EXCEEDED.asRuntimeException();
        Deadline passed = Deadline.after(-1, TimeUnit.SECONDS);
        Deadline ahead = Deadline.after(1, TimeUnit.HOURS);

        assertThat(RefusedCallException.classify(timedOut, passed)).isInstanceOf(RefusedCallException.class);
        // the caller still had time: the router did not answer within the downstream timeout, a failure
        assertThat(RefusedCallException.classify(timedOut, ahead)).isSameAs(timedOut);
        assertThat(RefusedCallException.classify(timedOut, null)).isSameAs(timedOut);
    }

    @Test
    void onlyARefusalOfTheRequestItselfIsPermanent() {
        var bad = (RefusedCallException) RefusedCallException.classify(Status.INVALID_ARGUMENT.asRuntimeException(), null);
        var shed = (RefusedCallException) RefusedCallException.classify(Status.RESOURCE_EXHAUSTED.asRuntimeException(),
                null);
        var cancelled = (RefusedCallException) RefusedCallException.classify(Status.CANCELLED.asRuntimeException(), null);

        assertThat(bad.permanent()).isTrue();
        assertThat(shed.permanent()).isFalse();
        assertThat(cancelled.permanent()).isFalse();
    }
}
