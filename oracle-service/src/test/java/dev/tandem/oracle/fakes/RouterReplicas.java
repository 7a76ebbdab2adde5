package dev.tandem.oracle.fakes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import dev.tandem.proto.router.v1.CancelCallsRequest;
import dev.tandem.proto.router.v1.CancelCallsResponse;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.router.v1.SettleStepRequest;
import dev.tandem.proto.router.v1.SettleStepResponse;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Two router replicas standing in for a headless Service's pods: real gRPC servers on loopback (random ports) that
 * record which task's Dispatch, Review, SettleStep and CancelCalls each received, behind one name, {@value #SCHEME}, that
 * resolves to both addresses as DNS resolves a headless Service ({@link Resolver}, registered with grpc-java's
 * default registry, {@link #registerResolver}; the authority {@code reversed} lists them in the other order, as
 * another DNS answer may).
 * A replica can be stopped and started again on its port.
 */
public class RouterReplicas implements QuarkusTestResourceLifecycleManager {

    public static final String SCHEME = "two-routers";

    /** A call a replica received: the RPC and the request's task and key. */
    public record Call(String rpc, String taskId, String key) {
    }

    /** One replica: its server and what it received. */
    public static final class Replica extends RouterServiceGrpc.RouterServiceImplBase {
        public final Queue<Call> calls = new ConcurrentLinkedQueue<>();
        /** How long a Dispatch or Review takes, as a worker call does: calls are in flight when the replica goes. */
        public volatile long latencyMillis;
        /** 0 until the first start picks a free port; a restart binds the same one. */
        private volatile int port;
        private volatile Server server;
        /** The connections the server accepted, so that a kill can reset them as a dying process's kernel does. */
        private final Queue<Channel> connections = new ConcurrentLinkedQueue<>();

        void start() {
            try {
                server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(this)
                        .channelFactory(() -> new NioServerSocketChannel() {
                            @Override
                            protected int doReadMessages(List<Object> accepted) throws Exception {
                                int read = super.doReadMessages(accepted);
                                for (int i = accepted.size() - read; i < accepted.size(); i++) {
                                    connections.add((Channel) accepted.get(i));
                                }
                                return read;
                            }
                        })
                        .bossEventLoopGroup(EVENT_LOOPS).workerEventLoopGroup(EVENT_LOOPS)
                        .build().start();
                port = server.getPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void dispatch(DispatchRequest request, StreamObserver<DispatchResponse> response) {
            calls.add(new Call("Dispatch", request.getTaskId(), request.getIdempotencyKey()));
            work();
            response.onNext(DispatchResponse.getDefaultInstance());
            response.onCompleted();
        }

        @Override
        public void review(ReviewRequest request, StreamObserver<ReviewResponse> response) {
            calls.add(new Call("Review", request.getTaskId(), request.getIdempotencyKey()));
            work();
            response.onNext(ReviewResponse.getDefaultInstance());
            response.onCompleted();
        }

        @Override
        public void settleStep(SettleStepRequest request, StreamObserver<SettleStepResponse> response) {
            calls.add(new Call("SettleStep", request.getTaskId(), ""));
            response.onNext(SettleStepResponse.newBuilder().setReleased(true).build());
            response.onCompleted();
        }

        private void work() {
            if (latencyMillis > 0) {
                try {
                    Thread.sleep(latencyMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** Cancels what this replica holds of the task: its keyed calls recorded so far. */
        @Override
        public void cancelCalls(CancelCallsRequest request, StreamObserver<CancelCallsResponse> response) {
            int held = (int) calls.stream()
                    .filter(c -> c.taskId().equals(request.getTaskId()) && !c.key().isEmpty()).count();
            calls.add(new Call("CancelCalls", request.getTaskId(), ""));
            response.onNext(CancelCallsResponse.newBuilder().setCancelled(held).build());
            response.onCompleted();
        }
    }

    public static final List<Replica> replicas = new ArrayList<>();

    /** The replicas' Netty event loops (a server with its own channel factory names its loops), for the JVM's life. */
    private static final EventLoopGroup EVENT_LOOPS = new NioEventLoopGroup(2,
            new DefaultThreadFactory("router-replicas", true));

    private static boolean registered;

    /**
     * Registers {@link Resolver} with the registry the channels of this class loader use (Quarkus' channel factory
     * does not see a test's META-INF/services); once.
     */
    public static synchronized void registerResolver() {
        if (!registered) {
            NameResolverRegistry.getDefaultRegistry().register(new Resolver());
            registered = true;
        }
    }

    @Override
    public Map<String, String> start() {
        registerResolver();
        for (int i = 0; i < 2; i++) {
            var replica = new Replica();
            replica.start();
            replicas.add(replica);
        }
        return Map.of();
    }

    /**
     * Stops a replica as a killed pod goes: its connections are reset (TCP RST, no GOAWAY, no stream reset), in-flight
     * calls fail UNAVAILABLE.
     */
    public static void stop(Replica replica) throws InterruptedException {
        for (Channel connection; (connection = replica.connections.poll()) != null; ) {
            if (connection.isOpen()) { // the client may have closed it already
                try {
                    connection.config().setOption(ChannelOption.SO_LINGER, 0);
                } catch (ChannelException closedMeanwhile) {
                    continue;
                }
                // past the pipeline: the gRPC handler would reset each stream and send GOAWAY, which a killed
                // process does not
                Channel closed = connection;
                connection.eventLoop().submit(() -> closed.unsafe().close(closed.unsafe().voidPromise()))
                        .awaitUninterruptibly();
            }
        }
        replica.server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /**
     * Stops a replica as a router with a shutdown timeout goes in a rolling update: it sends GOAWAY, answers the calls
     * it has, then closes.
     */
    public static void drain(Replica replica) throws InterruptedException {
        replica.server.shutdown().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Starts a stopped replica again on its port. */
    public static void restart(Replica replica) {
        replica.start();
    }

    @Override
    public void stop() {
        for (Replica replica : replicas) {
            replica.server.shutdownNow();
        }
        replicas.clear();
    }

    /** Resolves {@value #SCHEME}://... to the replicas' addresses. */
    public static final class Resolver extends NameResolverProvider {

        @Override
        public NameResolver newNameResolver(URI target, NameResolver.Args args) {
            if (!SCHEME.equals(target.getScheme())) {
                return null;
            }
            boolean reversed = "reversed".equals(target.getAuthority());
            return new NameResolver() {
                @Override
                public String getServiceAuthority() {
                    return "routers";
                }

                @Override
                public void start(Listener2 listener) {
                    if (replicas.isEmpty()) {
                        listener.onError(Status.UNAVAILABLE.withDescription("no router replicas started"));
                        return;
                    }
                    var groups = new ArrayList<EquivalentAddressGroup>();
                    for (Replica replica : replicas) {
                        groups.add(new EquivalentAddressGroup(new InetSocketAddress("127.0.0.1", replica.port)));
                    }
                    if (reversed) {
                        java.util.Collections.reverse(groups);
                    }
                    listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
                }

                @Override
                public void shutdown() {
                }
            };
        }

        @Override
        public String getDefaultScheme() {
            return SCHEME;
        }

        @Override
        protected boolean isAvailable() {
            return true;
        }

        @Override
        protected int priority() {
            return 5;
        }
    }
}
