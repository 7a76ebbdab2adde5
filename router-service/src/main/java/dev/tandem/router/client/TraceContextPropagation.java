package dev.tandem.router.client;

import jakarta.enterprise.context.ApplicationScoped;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;

/**
 * Carries the current trace context (W3C {@code traceparent}) on calls to worker pools. Quarkus instruments
 * {@code @GrpcClient} channels itself, but the pool channels are built at run time from the catalog, so they get
 * this interceptor: a step's worker span then belongs to the task's trace. A no-op while tracing is off.
 */
@ApplicationScoped
public class TraceContextPropagation implements ClientInterceptor {

    private static final TextMapSetter<Metadata> SETTER = (headers, key, value) ->
            headers.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);

    private final OpenTelemetry openTelemetry;

    public TraceContextPropagation(OpenTelemetry openTelemetry) {
        this.openTelemetry = openTelemetry;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                openTelemetry.getPropagators().getTextMapPropagator().inject(Context.current(), headers, SETTER);
                super.start(listener, headers);
            }
        };
    }
}
