package dev.tandem.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

/**
 * Answers a request whose bytes do not decode (not protobuf, or a string field that is not valid UTF-8) with
 * {@code INVALID_ARGUMENT}. The HTTP-port gRPC server drops such a message and then reports the client's
 * half-close as {@code INTERNAL: Half-closed without a request}, which blames the server for the client's bytes;
 * for calls that take exactly one request a half-close without one can only mean that.
 */
@GlobalInterceptor
@ApplicationScoped
@Priority(Integer.MAX_VALUE - 1) // just inside the deadline interceptor, before any service interceptor
public class MalformedRequestInterceptor implements ServerInterceptor {

    private static final Logger LOG = Logger.getLogger(MalformedRequestInterceptor.class);

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        var type = call.getMethodDescriptor().getType();
        var listener = next.startCall(call, headers);
        if (type != MethodType.UNARY && type != MethodType.SERVER_STREAMING) {
            return listener;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            private volatile boolean received;

            @Override
            public void onMessage(Q message) {
                received = true;
                super.onMessage(message);
            }

            @Override
            public void onHalfClose() {
                if (received) {
                    super.onHalfClose();
                    return;
                }
                var method = call.getMethodDescriptor().getFullMethodName();
                LOG.debugf("%s: request could not be decoded; answered INVALID_ARGUMENT", method);
                call.close(Status.INVALID_ARGUMENT.withDescription("the request to " + method
                        + " could not be decoded: it is not a valid protobuf message (for example a string field "
                        + "that is not valid UTF-8)"), new Metadata());
            }
        };
    }
}
