package dev.tandem.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A call that takes one request but got none (its bytes did not decode) is the client's error, not the server's. */
class MalformedRequestInterceptorTests {

    static final MethodDescriptor<String, String> UNARY = LoopbackServer.method("Unary", MethodType.UNARY);
    static final MethodDescriptor<String, String> SERVER_STREAMING =
            LoopbackServer.method("ServerStreaming", MethodType.SERVER_STREAMING);
    static final MethodDescriptor<String, String> CLIENT_STREAMING =
            LoopbackServer.method("ClientStreaming", MethodType.CLIENT_STREAMING);

    LoopbackServer server;

    @BeforeEach
    void start() throws Exception {
        var service = ServerServiceDefinition.builder("tandem.test.Loopback")
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((request, responses) -> {
                    responses.onNext("echo " + request);
                    responses.onCompleted();
                }))
                .addMethod(SERVER_STREAMING, ServerCalls.asyncServerStreamingCall((request, responses) -> {
                    responses.onNext("first " + request);
                    responses.onNext("second " + request);
                    responses.onCompleted();
                }))
                .addMethod(CLIENT_STREAMING, ServerCalls.asyncClientStreamingCall(responses -> {
                    var count = new AtomicInteger();
                    return new StreamObserver<String>() {
                        @Override
                        public void onNext(String value) {
                            count.incrementAndGet();
                        }

                        @Override
                        public void onError(Throwable t) {
                        }

                        @Override
                        public void onCompleted() {
                            responses.onNext(count.get() + " requests");
                            responses.onCompleted();
                        }
                    };
                }))
                .build();
        server = new LoopbackServer(service, new MalformedRequestInterceptor(), new CallerDeadlineInterceptor());
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    @Test
    void aUnaryCallWithoutADecodableRequestIsInvalidArgumentNamingTheMethod() throws Exception {
        Status status = server.halfCloseWithoutRequest(UNARY).get(30, TimeUnit.SECONDS);

        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).contains("tandem.test.Loopback/Unary").contains("could not be decoded");
    }

    @Test
    void aServerStreamingCallWithoutADecodableRequestIsInvalidArgumentToo() throws Exception {
        Status status = server.halfCloseWithoutRequest(SERVER_STREAMING).get(30, TimeUnit.SECONDS);

        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).contains("tandem.test.Loopback/ServerStreaming");
    }

    @Test
    void wellFormedRequestsAreServedAsUsual() {
        var options = io.grpc.CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS);
        assertThat(ClientCalls.blockingUnaryCall(server.channel, UNARY, options, "hello")).isEqualTo("echo hello");
        var streamed = ClientCalls.blockingServerStreamingCall(server.channel, SERVER_STREAMING, options, "hi");
        assertThat(streamed).toIterable().containsExactly("first hi", "second hi");
    }

    @Test
    void aClientStreamingCallMayEndWithoutAnyRequest() throws Exception {
        var answer = new java.util.concurrent.CompletableFuture<String>();
        var requests = ClientCalls.asyncClientStreamingCall(server.channel.newCall(CLIENT_STREAMING,
                io.grpc.CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS)), new StreamObserver<String>() {
            @Override
            public void onNext(String value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        requests.onCompleted();

        assertThat(answer.get(30, TimeUnit.SECONDS)).isEqualTo("0 requests");
    }
}
