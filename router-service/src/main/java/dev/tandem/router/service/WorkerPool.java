package dev.tandem.router.service;

import java.util.List;

/**
 * A worker-service deployment reachable at one gRPC target, serving some models with a declared concurrency.
 *
 * @param gpu GPU class, empty for CPU pools
 */
public record WorkerPool(String id, String endpoint, List<String> models, int capacity, String gpu,
                         boolean plaintext) {

    public WorkerPool {
        models = List.copyOf(models);
    }
}
