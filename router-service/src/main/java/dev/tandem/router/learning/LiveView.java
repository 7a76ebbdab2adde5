package dev.tandem.router.learning;

import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;

/** What selection needs to know about the live state of backends; read on the hot path, so it must be cheap. */
public interface LiveView {

    /** Measured p95 latency of a backend over its recent window in milliseconds, 0 when unknown. */
    double p95Millis(Backend backend);

    /** Mean latency of a backend's recent successful calls in milliseconds, 0 when unknown (GPU-time estimates). */
    double meanMillis(Backend backend);

    /** Share of the backend's recent calls that failed, in [0, 1]. */
    double errorRate(Backend backend);

    /** Requests in flight on the backend's pool. */
    int inFlight(Backend backend);

    /** True when the backend's circuit is open and not yet due for a trial request. */
    boolean circuitOpen(Backend backend);

    /** Nanoseconds until a rate-limited backend may be used again; 0 when it is not rate limited. */
    long rateLimitedForNanos(Backend backend);

    /** Quality of a model for a worker type: measured lower bound, the model's prior, or a prediction. */
    QualityEstimate quality(String workerType, ModelProfile model);

    /** What the audit will do with the model's next output for the worker type and tenant; not audited by default. */
    default StreamOutlooks.Outlook outlook(String workerType, String modelId, String tenant) {
        return StreamOutlooks.Outlook.NOT_AUDITED;
    }

    /** Price of one review of a step of the worker type by the oracle model, in USD. */
    default double reviewUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        return oracle == null ? 0 : oracle.costUsd(inputTokens + outputTokens, outputTokens, 0);
    }

    /** The most one review of such a step is expected to cost (what the exploration budget must absorb). */
    default double reviewWorstUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        return reviewUsd(workerType, oracle, inputTokens, outputTokens);
    }

    /** Expected price of escalating a rejected output of the worker type, given the oracle's direct price. */
    default double escalationUsd(String workerType, double oracleUsd) {
        return oracleUsd;
    }
}
