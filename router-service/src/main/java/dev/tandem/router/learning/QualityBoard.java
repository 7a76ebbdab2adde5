package dev.tandem.router.learning;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.config.RouterConfig;

/**
 * Accept and reject counts of audit reviews per (worker type, model), and the quality selection reads from them:
 * the one-sided Wilson lower bound of the accept rate once enough verdicts are in, else the model's prior; zero
 * while the audit service has the stream suspended.
 * <p>
 * Counts remember about {@code quality.window} verdicts: when new verdicts arrive on a full window the old counts
 * are scaled down to make room, so a quality drop shows within a window's worth of verdicts however long the
 * model was good before. The board is an immutable map swapped atomically: reads on the routing hot path take no
 * lock and allocate nothing.
 */
@ApplicationScoped
public class QualityBoard {

    /** Reviews of one (worker type, model) stream; fractional once older verdicts were scaled down. */
    public record Verdicts(double accepted, double rejected) {
        public double total() {
            return accepted + rejected;
        }
    }

    /** One (worker type, model) entry with its quality precomputed. */
    record Entry(Verdicts verdicts, boolean suspended, QualityEstimate measured) {
    }

    private static final QualityEstimate SUSPENDED = new QualityEstimate(0, 0, QualityEstimate.Source.SUSPENDED);

    private final AtomicReference<Map<String, Map<String, Entry>>> board = new AtomicReference<>(Map.of());
    private final int minSamples;
    private final double z;
    private final double window;

    @Inject
    public QualityBoard(RouterConfig config) {
        this(config.quality().minSamples(), config.quality().confidenceZ(), config.quality().window());
    }

    public QualityBoard(int minSamples, double z) {
        this(minSamples, z, Integer.MAX_VALUE);
    }

    public QualityBoard(int minSamples, double z, int window) {
        this.minSamples = minSamples;
        this.z = z;
        this.window = Math.max(1, window);
    }

    /** Quality of a model for a worker type. */
    public QualityEstimate estimate(String workerType, ModelProfile model) {
        Map<String, Entry> byModel = board.get().get(workerType);
        Entry e = byModel == null ? null : byModel.get(model.id());
        if (e == null) {
            return model.prior();
        }
        if (e.suspended()) {
            return SUSPENDED;
        }
        return e.measured() != null ? e.measured() : model.prior();
    }

    /** Quality of a model for a worker type in [0, 1]. */
    public double quality(String workerType, ModelProfile model) {
        return estimate(workerType, model).value();
    }

    /** True when the quality of the pair is measured rather than the prior. */
    public boolean measured(String workerType, String modelId) {
        Map<String, Entry> byModel = board.get().get(workerType);
        Entry e = byModel == null ? null : byModel.get(modelId);
        return e != null && e.measured() != null;
    }

    /** Verdicts counted for the pair (after scaling), 0 when none. */
    public double verdicts(String workerType, String modelId) {
        Map<String, Entry> byModel = board.get().get(workerType);
        Entry e = byModel == null ? null : byModel.get(modelId);
        return e == null ? 0 : e.verdicts().total();
    }

    public int minSamples() {
        return minSamples;
    }

    /** Replaces every count, for example with the cumulative counts the audit service reports. */
    public void replaceAll(Map<String, Map<String, Verdicts>> counts) {
        Map<String, Map<String, Entry>> next = new HashMap<>();
        counts.forEach((workerType, byModel) -> {
            Map<String, Entry> entries = new HashMap<>();
            byModel.forEach((model, v) -> entries.put(model, entry(v, false)));
            next.put(workerType, Map.copyOf(entries));
        });
        board.set(Map.copyOf(next));
    }

    /**
     * Adds new verdicts per (worker type, model) to the remembered ones, and sets which pairs the audit service has
     * suspended (a pair absent from {@code deltas} keeps its counts).
     */
    public void add(Map<String, Map<String, Verdicts>> deltas, Set<String> suspendedPairs) {
        board.updateAndGet(current -> {
            Map<String, Map<String, Entry>> next = new HashMap<>();
            current.forEach((type, byModel) -> next.put(type, new HashMap<>(byModel)));
            deltas.forEach((type, byModel) -> byModel.forEach((model, d) -> {
                Map<String, Entry> entries = next.computeIfAbsent(type, k -> new HashMap<>());
                Entry old = entries.get(model);
                entries.put(model, entry(remember(old == null ? null : old.verdicts(), d), false));
            }));
            next.forEach((type, entries) -> entries.replaceAll((model, e) -> {
                boolean suspended = suspendedPairs.contains(pairKey(type, model));
                return e.suspended() == suspended ? e : new Entry(e.verdicts(), suspended, e.measured());
            }));
            for (String pair : suspendedPairs) {
                int sep = pair.indexOf('\n');
                next.computeIfAbsent(pair.substring(0, sep), k -> new HashMap<>())
                        .computeIfAbsent(pair.substring(sep + 1), m -> new Entry(new Verdicts(0, 0), true, null));
            }
            Map<String, Map<String, Entry>> frozen = new HashMap<>();
            next.forEach((type, entries) -> frozen.put(type, Map.copyOf(entries)));
            return Map.copyOf(frozen);
        });
    }

    /** Adds one verdict. */
    public void record(String workerType, String modelId, boolean accepted) {
        add(Map.of(workerType, Map.of(modelId, accepted ? new Verdicts(1, 0) : new Verdicts(0, 1))),
                suspendedPairs());
    }

    /** The key of a (worker type, model) pair in {@code suspendedPairs}. */
    public static String pairKey(String workerType, String modelId) {
        return workerType + "\n" + modelId;
    }

    public Map<String, Map<String, Verdicts>> snapshot() {
        Map<String, Map<String, Verdicts>> out = new HashMap<>();
        board.get().forEach((type, byModel) -> {
            Map<String, Verdicts> v = new HashMap<>();
            byModel.forEach((model, e) -> v.put(model, e.verdicts()));
            out.put(type, v);
        });
        return out;
    }

    /** Pairs the audit service has suspended. */
    public Set<String> suspendedPairs() {
        Set<String> out = new HashSet<>();
        board.get().forEach((type, byModel) -> byModel.forEach((model, e) -> {
            if (e.suspended()) {
                out.add(pairKey(type, model));
            }
        }));
        return out;
    }

    /** Old counts scaled down so that old + new stay within the window, then the new ones added at full weight. */
    Verdicts remember(Verdicts old, Verdicts delta) {
        double d = delta.total();
        if (d >= window) {
            double f = window / d;
            return new Verdicts(delta.accepted() * f, delta.rejected() * f);
        }
        if (old == null) {
            return delta;
        }
        double t = old.total();
        double keep = t + d > window ? (window - d) / t : 1;
        return new Verdicts(old.accepted() * keep + delta.accepted(), old.rejected() * keep + delta.rejected());
    }

    private Entry entry(Verdicts v, boolean suspended) {
        double total = v.total();
        QualityEstimate measured = total >= minSamples && total > 0
                ? new QualityEstimate(wilsonLowerBound(v.accepted(), total, z), Math.round(total),
                QualityEstimate.Source.MEASURED)
                : null;
        return new Entry(v, suspended, measured);
    }

    /** One-sided Wilson score lower bound of a binomial proportion. */
    static double wilsonLowerBound(double successes, double total, double z) {
        if (total <= 0) {
            return 0;
        }
        double p = successes / total;
        double z2 = z * z;
        double centre = p + z2 / (2 * total);
        double margin = z * Math.sqrt(p * (1 - p) / total + z2 / (4d * total * total));
        return Math.max(0, (centre - margin) / (1 + z2 / total));
    }
}
