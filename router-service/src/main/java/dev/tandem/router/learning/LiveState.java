package dev.tandem.router.learning;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.client.WorkerPools;

/** The live view selection reads: measured latency and errors, pool load, circuits, rate limits, learned quality. */
@ApplicationScoped
public class LiveState implements LiveView {

    private final BackendProfiles profiles;

    private final WorkerPools pools;

    private final QualityBoard quality;

    private final StreamOutlooks outlooks;

    private final ReviewPricing reviewPricing;

    @Inject
    public LiveState(BackendProfiles profiles, WorkerPools pools, QualityBoard quality, StreamOutlooks outlooks,
            ReviewPricing reviewPricing) {
        this.profiles = profiles;
        this.pools = pools;
        this.quality = quality;
        this.outlooks = outlooks;
        this.reviewPricing = reviewPricing;
    }

    /** For use outside CDI (benchmarks). */
    public LiveState(BackendProfiles profiles, WorkerPools pools, QualityBoard quality) {
        this(profiles, pools, quality, new StreamOutlooks(), new ReviewPricing());
    }

    /** A backend's live records, cached on the backend (a decision reads six figures of each of them). */
    private record Slot(LiveState owner, BackendProfiles.Profile profile, WorkerPools.BackendState state,
                        WorkerPools.PoolLoad load) {
    }

    private Slot slot(Backend backend) {
        if (backend.liveSlot() instanceof Slot s && s.owner() == this) {
            return s;
        }
        Slot s = new Slot(this, profiles.profile(backend), pools.backendState(backend), pools.poolLoad(backend.pool()));
        backend.liveSlot(s);
        return s;
    }

    @Override
    public double p95Millis(Backend backend) {
        return slot(backend).profile().p95Millis();
    }

    @Override
    public double meanMillis(Backend backend) {
        return slot(backend).profile().meanOkMillis();
    }

    @Override
    public double errorRate(Backend backend) {
        return slot(backend).profile().errorRate();
    }

    @Override
    public int inFlight(Backend backend) {
        return slot(backend).load().inFlight();
    }

    @Override
    public boolean circuitOpen(Backend backend) {
        return pools.circuitOpen(slot(backend).state());
    }

    @Override
    public long rateLimitedForNanos(Backend backend) {
        return pools.rateLimitedForNanos(slot(backend).state());
    }

    @Override
    public QualityEstimate quality(String workerType, ModelProfile model) {
        return quality.estimate(workerType, model);
    }

    @Override
    public StreamOutlooks.Outlook outlook(String workerType, String modelId, String tenant) {
        return outlooks.get(workerType, modelId, tenant);
    }

    @Override
    public double reviewUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        return reviewPricing.reviewUsd(workerType, oracle, inputTokens, outputTokens);
    }

    @Override
    public double reviewWorstUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        return reviewPricing.reviewWorstUsd(workerType, oracle, inputTokens, outputTokens);
    }

    @Override
    public double escalationUsd(String workerType, double oracleUsd) {
        return reviewPricing.escalationUsd(workerType, oracleUsd);
    }

    /** The audit outlooks selection reads (benchmarks feed them directly). */
    public StreamOutlooks outlooks() {
        return outlooks;
    }
}
