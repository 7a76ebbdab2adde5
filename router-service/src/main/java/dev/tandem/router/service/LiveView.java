package dev.tandem.router.service;

/** What selection needs to know about the live state of backends; read on the hot path, so it must be cheap. */
public interface LiveView {

    /** Measured p95 latency of a backend over its recent window in milliseconds, 0 when unknown. */
    double p95Millis(Backend backend);

    /** Requests in flight on a pool. */
    int inFlight(WorkerPool pool);

    /** True when the pool's circuit is open and not yet due for a trial request. */
    boolean circuitOpen(WorkerPool pool);

    /** Quality of a model for a worker type in [0, 1]: measured lower bound or the model's prior. */
    double quality(String workerType, ModelProfile model);
}
