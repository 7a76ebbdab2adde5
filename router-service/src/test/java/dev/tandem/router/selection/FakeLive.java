package dev.tandem.router.selection;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.learning.LiveView;
import dev.tandem.router.learning.StreamOutlooks;

/** Live state set by each test. */
public class FakeLive implements LiveView {
    final Map<String, Double> p95 = new HashMap<>();
    final Map<String, Double> mean = new HashMap<>();
    final Map<String, Integer> inFlight = new HashMap<>();
    final Map<String, QualityEstimate> quality = new HashMap<>();
    final Set<String> openCircuits = new HashSet<>();
    final Map<String, Long> rateLimited = new HashMap<>();
    /** Audit outlooks by model id; models not in it are not audited unless {@link #audited} is set. */
    final Map<String, StreamOutlooks.Outlook> outlooks = new HashMap<>();
    boolean audited;
    /** Share of rejections that need a redo on the oracle (1: every one). */
    double escalationShare = 1;
    /** The dearest recent review as a multiple of the expected one. */
    double reviewWorstScale = 1;

    void measured(String model, double value, long samples) {
        quality.put(model, new QualityEstimate(value, samples, QualityEstimate.Source.MEASURED));
    }

    @Override
    public double p95Millis(Backend backend) {
        return p95.getOrDefault(backend.key(), 0d);
    }

    @Override
    public double meanMillis(Backend backend) {
        return mean.getOrDefault(backend.key(), 0d);
    }

    @Override
    public double errorRate(Backend backend) {
        return 0;
    }

    @Override
    public int inFlight(Backend backend) {
        return inFlight.getOrDefault(backend.pool().id(), 0);
    }

    @Override
    public boolean circuitOpen(Backend backend) {
        return openCircuits.contains(backend.key()) || openCircuits.contains(backend.pool().id());
    }

    @Override
    public long rateLimitedForNanos(Backend backend) {
        return rateLimited.getOrDefault(backend.key(), 0L);
    }

    @Override
    public QualityEstimate quality(String workerType, ModelProfile model) {
        return quality.getOrDefault(model.id(), model.prior());
    }

    @Override
    public StreamOutlooks.Outlook outlook(String workerType, String modelId, String tenant) {
        StreamOutlooks.Outlook o = outlooks.get(modelId);
        return o != null ? o : audited ? StreamOutlooks.Outlook.NEW : StreamOutlooks.Outlook.NOT_AUDITED;
    }

    @Override
    public double reviewWorstUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        return reviewWorstScale * reviewUsd(workerType, oracle, inputTokens, outputTokens);
    }

    @Override
    public double escalationUsd(String workerType, double oracleUsd) {
        return escalationShare * oracleUsd;
    }
}
