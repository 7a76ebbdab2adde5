package dev.tandem.router.grpc;

import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import io.vertx.core.Vertx;

/**
 * Makes the caller's deadline available to service methods. The Vert.x-based gRPC server Quarkus runs on the HTTP
 * port does not turn the {@code grpc-timeout} header into {@code Context.current().getDeadline()}, so this reads
 * the header itself and keeps the deadline in the request's Vert.x context, which the method (on its virtual
 * thread) shares.
 */
@ApplicationScoped
@GlobalInterceptor
public class CallerDeadlineInterceptor implements ServerInterceptor {

    private static final Metadata.Key<String> GRPC_TIMEOUT =
            Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);
    private static final String LOCAL_KEY = "tandem.caller-deadline";

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        Deadline deadline = Context.current().getDeadline();
        if (deadline == null) {
            deadline = parseTimeout(headers.get(GRPC_TIMEOUT));
        }
        io.vertx.core.Context vertx = Vertx.currentContext();
        if (deadline != null && vertx != null) {
            vertx.putLocal(LOCAL_KEY, deadline);
        }
        return next.startCall(call, headers);
    }

    /** The deadline of the current call, or null when the caller set none. */
    public static Deadline current() {
        Deadline deadline = Context.current().getDeadline();
        if (deadline != null) {
            return deadline;
        }
        io.vertx.core.Context vertx = Vertx.currentContext();
        return vertx == null ? null : vertx.getLocal(LOCAL_KEY);
    }

    /** Parses a gRPC timeout header value: up to 8 digits and a unit (H, M, S, m, u, n). */
    static Deadline parseTimeout(String value) {
        if (value == null || value.length() < 2 || value.length() > 9) {
            return null;
        }
        long amount;
        try {
            amount = Long.parseLong(value.substring(0, value.length() - 1));
        } catch (NumberFormatException e) {
            return null;
        }
        TimeUnit unit = switch (value.charAt(value.length() - 1)) {
            case 'H' -> TimeUnit.HOURS;
            case 'M' -> TimeUnit.MINUTES;
            case 'S' -> TimeUnit.SECONDS;
            case 'm' -> TimeUnit.MILLISECONDS;
            case 'u' -> TimeUnit.MICROSECONDS;
            case 'n' -> TimeUnit.NANOSECONDS;
            default -> null;
        };
        return unit == null || amount < 0 ? null : Deadline.after(amount, unit);
    }
}
