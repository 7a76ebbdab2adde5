package dev.tandem.oracle.client;

import io.grpc.Deadline;
import io.grpc.stub.AbstractStub;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Applies the client's deadline to a downstream stub, or the configured default when the call has none. */
public final class Deadlines {

    private Deadlines() {
    }

    public static <S extends AbstractStub<S>> S apply(S stub, Deadline deadline, Duration defaultTimeout) {
        return deadline != null ? stub.withDeadline(deadline)
                : stub.withDeadlineAfter(defaultTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
