package dev.tandem.router.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.router.client.WorkerPools;

/** The live view selection reads: measured latency and errors, pool load, circuits, rate limits, learned quality. */
@ApplicationScoped
public class LiveState implements LiveView {

    @Inject
    BackendProfiles profiles;

    @Inject
    WorkerPools pools;

    @Inject
    QualityBoard quality;

    public LiveState() {
    }

    /** For use outside CDI (benchmarks). */
    public LiveState(BackendProfiles profiles, WorkerPools pools, QualityBoard quality) {
        this.profiles = profiles;
        this.pools = pools;
        this.quality = quality;
    }

    @Override
    public double p95Millis(Backend backend) {
        BackendProfiles.Profile profile = profiles.existing(backend);
        return profile == null ? 0 : profile.p95Millis();
    }

    @Override
    public double meanMillis(Backend backend) {
        BackendProfiles.Profile profile = profiles.existing(backend);
        return profile == null ? 0 : profile.meanOkMillis();
    }

    @Override
    public double errorRate(Backend backend) {
        BackendProfiles.Profile profile = profiles.existing(backend);
        return profile == null ? 0 : profile.errorRate();
    }

    @Override
    public int inFlight(WorkerPool pool) {
        return pools.inFlight(pool);
    }

    @Override
    public boolean circuitOpen(Backend backend) {
        return pools.circuitOpen(backend);
    }

    @Override
    public long rateLimitedForNanos(Backend backend) {
        return pools.rateLimitedForNanos(backend);
    }

    @Override
    public QualityEstimate quality(String workerType, ModelProfile model) {
        return quality.estimate(workerType, model);
    }
}
