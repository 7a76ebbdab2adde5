package dev.tandem.oracle.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Optional;

/**
 * Carries the API key a call presents ({@code authorization: Bearer <key>} or {@code x-api-key: <key>}) into the
 * call's {@link Context}. It only reads: the service method decides, after the request has arrived, so a refused
 * call is closed exactly once and with the status the service chose.
 */
@GlobalInterceptor
@ApplicationScoped
public class CallerCredentialsInterceptor implements ServerInterceptor {

    private static final Context.Key<String> API_KEY = Context.key("tandem.api-key");
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> X_API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);

    /** The key presented by the current call, if any; read it on the call's thread. */
    public static Optional<String> presentedKey() {
        return Optional.ofNullable(API_KEY.get());
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        var key = headers.get(X_API_KEY);
        if (key == null) {
            var authorization = headers.get(AUTHORIZATION);
            if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
                key = authorization.substring(7).strip();
            }
        }
        if (key == null) {
            return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(API_KEY, key), call, headers, next);
    }
}
