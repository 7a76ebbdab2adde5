package dev.tandem.router.service;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.router.config.RouterConfig;

/**
 * Accept and reject counts of audit reviews per (worker type, model), and the quality selection reads from
 * them: the one-sided Wilson lower bound of the accept rate once enough verdicts are in, else the model's prior.
 * The counts live in an immutable map swapped atomically, so reads on the routing hot path take no lock.
 */
@ApplicationScoped
public class QualityBoard {

    /** Reviews of one (worker type, model) stream. */
    public record Verdicts(long accepted, long rejected) {
        public long total() {
            return accepted + rejected;
        }
    }

    private final AtomicReference<Map<String, Map<String, Verdicts>>> board = new AtomicReference<>(Map.of());
    private final int minSamples;
    private final double z;

    @Inject
    public QualityBoard(RouterConfig config) {
        this(config.quality().minSamples(), config.quality().confidenceZ());
    }

    public QualityBoard(int minSamples, double z) {
        this.minSamples = minSamples;
        this.z = z;
    }

    /** Quality of a model for a worker type in [0, 1]. */
    public double quality(String workerType, ModelProfile model) {
        Map<String, Verdicts> byModel = board.get().get(workerType);
        Verdicts v = byModel == null ? null : byModel.get(model.id());
        if (v == null || v.total() < minSamples) {
            return model.priorQuality();
        }
        return wilsonLowerBound(v.accepted(), v.total(), z);
    }

    /** True when the quality of the pair is measured rather than the prior. */
    public boolean measured(String workerType, String modelId) {
        Map<String, Verdicts> byModel = board.get().get(workerType);
        Verdicts v = byModel == null ? null : byModel.get(modelId);
        return v != null && v.total() >= minSamples;
    }

    /** Replaces every count, for example with the cumulative counts the audit service reports. */
    public void replaceAll(Map<String, Map<String, Verdicts>> counts) {
        Map<String, Map<String, Verdicts>> copy = new HashMap<>();
        counts.forEach((workerType, byModel) -> copy.put(workerType, Map.copyOf(byModel)));
        board.set(Map.copyOf(copy));
    }

    /** Adds one verdict. */
    public void record(String workerType, String modelId, boolean accepted) {
        board.updateAndGet(current -> {
            Map<String, Map<String, Verdicts>> next = new HashMap<>(current);
            Map<String, Verdicts> byModel = new HashMap<>(next.getOrDefault(workerType, Map.of()));
            Verdicts v = byModel.getOrDefault(modelId, new Verdicts(0, 0));
            byModel.put(modelId, accepted ? new Verdicts(v.accepted() + 1, v.rejected())
                    : new Verdicts(v.accepted(), v.rejected() + 1));
            next.put(workerType, Map.copyOf(byModel));
            return Map.copyOf(next);
        });
    }

    public Map<String, Map<String, Verdicts>> snapshot() {
        return board.get();
    }

    /** One-sided Wilson score lower bound of a binomial proportion. */
    static double wilsonLowerBound(long successes, long total, double z) {
        if (total == 0) {
            return 0;
        }
        double p = (double) successes / total;
        double z2 = z * z;
        double centre = p + z2 / (2 * total);
        double margin = z * Math.sqrt(p * (1 - p) / total + z2 / (4d * total * total));
        return Math.max(0, (centre - margin) / (1 + z2 / total));
    }
}
