package dev.tandem.audit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.inject.Singleton;

import dev.tandem.grpc.TaskAffinity;
import dev.tandem.proto.router.v1.ReviewRequest;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;

/**
 * What the fake router's Review calls carried in the task affinity header ({@link TaskAffinity#HEADER}), by the
 * request's task id; "" for a call without it. A singleton, not a client proxy, so the tests read its map directly.
 */
@Singleton
@GlobalInterceptor
public class RouterCallHeaders implements ServerInterceptor {

    public final Map<String, String> taskHeaderByTask = new ConcurrentHashMap<>();

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String header = headers.get(TaskAffinity.HEADER);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
            @Override
            public void onMessage(Q message) {
                if (message instanceof ReviewRequest review) {
                    taskHeaderByTask.put(review.getTaskId(), header == null ? "" : header);
                }
                super.onMessage(message);
            }
        };
    }
}
