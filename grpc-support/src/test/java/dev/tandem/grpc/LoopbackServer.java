package dev.tandem.grpc;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A grpc-java server on loopback in the test's JVM, with the given service behind the interceptors in production
 * order (deadline outermost). grpc-java's own server sets the caller's deadline and answers a missing request
 * itself; the HTTP-port server the services run on does neither, so the outermost interceptor here runs the call
 * in a context without a deadline, as that server does, and the interceptors under test have to do the work.
 */
final class LoopbackServer implements AutoCloseable {

    static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    static MethodDescriptor<String, String> method(String name, MethodType type) {
        return MethodDescriptor.<String, String>newBuilder().setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("tandem.test.Loopback", name))
                .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();
    }

    /** What the HTTP-port server does: the service and its interceptors see no deadline from the server. */
    static final ServerInterceptor SERVER_WITHOUT_DEADLINES = new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                          ServerCallHandler<Q, R> next) {
            return Contexts.interceptCall(Context.ROOT, call, headers, next);
        }
    };

    final Server server;
    final ManagedChannel channel;

    LoopbackServer(ServerServiceDefinition service, ServerInterceptor... interceptors) throws IOException {
        var chain = new ServerInterceptor[interceptors.length + 1];
        System.arraycopy(interceptors, 0, chain, 0, interceptors.length);
        chain[interceptors.length] = SERVER_WITHOUT_DEADLINES; // the last one listed runs first
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(service, chain)).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    /**
     * Starts a call and half-closes it without sending a request: on the wire this is what the HTTP-port server
     * hands the service when the request's bytes did not decode (it drops the message, then sees the half-close).
     */
    CompletableFuture<Status> halfCloseWithoutRequest(MethodDescriptor<String, String> method) {
        var closed = new CompletableFuture<Status>();
        ClientCall<String, String> call = channel.newCall(method,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, new Metadata());
        call.request(1);
        call.halfClose();
        return closed;
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
