package dev.tandem.grpc;

import java.util.Map;

import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;

/**
 * One task's keyed router calls go to one router replica: the caller puts a digest of the tenant and the task id in
 * {@link #HEADER} and its channel to the router balances on it ({@link #serviceConfig()}, {@link RingHash}). A
 * resumed task's repeat (after the caller restarted) then reaches the replica that holds the first call in flight
 * or its record, and {@code CancelCalls} reaches the replica its calls run on. Calls without the header (an
 * interactive task's) get a random hash and spread over the replicas.
 */
public final class TaskAffinity {

    /** The header the router channel hashes; its value is {@link #of}. */
    public static final Metadata.Key<String> HEADER = Metadata.Key.of("tandem-task-key",
            Metadata.ASCII_STRING_MARSHALLER);

    private TaskAffinity() {
    }

    /** The service config of a channel to the router replicas: ring_hash on {@link #HEADER}. */
    public static Map<String, Object> serviceConfig() {
        return RingHash.serviceConfig(HEADER.name());
    }

    /**
     * The header value of a task: the digest of its tenant and id. The tenant goes first with its length, so no two
     * (tenant, task) pairs share the digested text.
     */
    public static String of(String tenant, String taskId) {
        return RingHash.digest(tenant.length() + ":" + tenant + "/" + taskId);
    }

    /**
     * The stub whose calls carry the task's header, so they reach the task's router replica; the stub unchanged when
     * {@code taskId} is empty (nothing to be faithful to: the call goes to any replica).
     */
    public static <S extends AbstractStub<S>> S pinned(S stub, String tenant, String taskId) {
        if (taskId.isEmpty()) {
            return stub;
        }
        var headers = new Metadata();
        headers.put(HEADER, of(tenant, taskId));
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
}
