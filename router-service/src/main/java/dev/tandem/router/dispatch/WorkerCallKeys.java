package dev.tandem.router.dispatch;

import dev.tandem.grpc.RingHash;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc.WorkerServiceBlockingStub;
import dev.tandem.router.client.WorkerPools;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;

/**
 * The key of one worker call of a keyed Dispatch or Review ({@code ExecuteStepRequest.idempotency_key}): the tenant,
 * the caller's key and the model, {@code <tenant>/<key>@<model>}. A repeat of the keyed call from a restarted or
 * another router replica that makes the same choice sends the same key, and the worker answers it from the model
 * call it ran (or still runs) for the first; a different choice (failover to another model, a cascade climb, a
 * hedge) is another model call and gets another key. Retries of one backend and a repeat's attempt numbers do not
 * change it: they ask for the same model call. The pool is not in it: every pool is its own set of workers.
 */
public final class WorkerCallKeys {

    private WorkerCallKeys() {
    }

    /** The worker key of a keyed call's call to {@code modelId}; "" for an unkeyed call. */
    public static String of(String tenant, String key, String modelId) {
        return key.isEmpty() ? "" : tenant + "/" + key + "@" + modelId;
    }

    /**
     * The stub that sends the worker key in the header the pool's channel hashes to pick the worker replica
     * ({@link WorkerPools#CALL_KEY_HEADER}), so the repeat reaches the replica that holds the call; an unkeyed call
     * goes to any replica.
     */
    public static WorkerServiceBlockingStub routed(WorkerServiceBlockingStub stub, String workerKey) {
        if (workerKey.isEmpty()) {
            return stub;
        }
        var headers = new Metadata();
        headers.put(WorkerPools.CALL_KEY_HEADER, hashed(workerKey));
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** What the header carries: the key's digest ({@link RingHash#digest}); the channel only hashes it. */
    static String hashed(String workerKey) {
        return RingHash.digest(workerKey);
    }
}
