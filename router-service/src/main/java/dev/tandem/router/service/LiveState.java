package dev.tandem.router.service;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.router.client.WorkerPools;

/** The live view selection reads: measured latency, pool load and circuits, and learned quality. */
@ApplicationScoped
public class LiveState implements LiveView {

    @Inject
    BackendProfiles profiles;

    @Inject
    WorkerPools pools;

    @Inject
    QualityBoard quality;

    @Override
    public double p95Millis(Backend backend) {
        BackendProfiles.Profile profile = profiles.existing(backend);
        return profile == null ? 0 : profile.p95Millis();
    }

    @Override
    public int inFlight(WorkerPool pool) {
        return pools.inFlight(pool);
    }

    @Override
    public boolean circuitOpen(WorkerPool pool) {
        return pools.circuitOpen(pool);
    }

    @Override
    public double quality(String workerType, ModelProfile model) {
        return quality.quality(workerType, model);
    }
}
