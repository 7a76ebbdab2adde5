package dev.tandem.router.catalog;

import java.util.List;

/**
 * A worker-service deployment reachable at one gRPC target, serving some models with a declared concurrency.
 *
 * @param gpu             GPU class, empty for CPU pools
 * @param gpus            GPUs one replica uses for a call
 * @param usdPerGpuSecond price of one GPU-second; 0 when the pool is not priced by GPU time
 */
public record WorkerPool(String id, String endpoint, List<String> models, int capacity, String gpu,
                         boolean plaintext, int gpus, double usdPerGpuSecond) {

    public WorkerPool {
        models = List.copyOf(models);
        gpus = Math.max(1, gpus);
    }

    /** A pool without GPU-time pricing. */
    public WorkerPool(String id, String endpoint, List<String> models, int capacity, String gpu, boolean plaintext) {
        this(id, endpoint, models, capacity, gpu, plaintext, 1, 0);
    }

    public boolean gpuPriced() {
        return usdPerGpuSecond > 0;
    }

    /** Price of the given model time on this pool: price per GPU-second x GPUs x seconds. */
    public double gpuCostUsd(double modelSeconds) {
        return usdPerGpuSecond * gpus * Math.max(0, modelSeconds);
    }
}
