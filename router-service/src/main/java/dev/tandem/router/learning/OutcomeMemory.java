package dev.tandem.router.learning;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reviewed outcomes per (worker type, model): the embedding of the step's input and whether the reviewer accepted
 * the model's output. The prompt-level policy predicts a model's success on a new input from the outcomes of its
 * nearest neighbours. Outcomes come only from reviews the router routed (audit verdicts), never from dataset labels.
 * Bounded: the oldest outcome of a pair is overwritten once {@code capacity} are kept.
 */
public final class OutcomeMemory {

    /** A prediction for one model and input. */
    public record Prediction(double probability, int neighbours, int outcomes, double overallRate) {
    }

    /** Outcomes of one (worker type, model). */
    static final class Store {
        final float[][] embeddings;
        final boolean[] accepted;
        int next;
        int count;
        int acceptedCount;

        Store(int capacity) {
            embeddings = new float[capacity][];
            accepted = new boolean[capacity];
        }
    }

    private final Map<String, Store> stores = new ConcurrentHashMap<>();
    private final int capacity;

    public OutcomeMemory(int capacity) {
        this.capacity = Math.max(1, capacity);
    }

    public void record(String workerType, String modelId, float[] embedding, boolean accepted) {
        Store s = stores.computeIfAbsent(key(workerType, modelId), k -> new Store(capacity));
        synchronized (s) {
            if (s.count == s.embeddings.length && s.accepted[s.next]) {
                s.acceptedCount--;
            }
            s.embeddings[s.next] = embedding;
            s.accepted[s.next] = accepted;
            if (accepted) {
                s.acceptedCount++;
            }
            s.next = (s.next + 1) % s.embeddings.length;
            s.count = Math.min(s.count + 1, s.embeddings.length);
        }
    }

    public int outcomes(String workerType, String modelId) {
        Store s = stores.get(key(workerType, modelId));
        if (s == null) {
            return 0;
        }
        synchronized (s) {
            return s.count;
        }
    }

    /**
     * The probability the model's output for this input is accepted: the accept rate of its {@code k} most similar
     * reviewed inputs (cosine), shrunk toward the model's overall accept rate with the weight of {@code shrinkage}
     * outcomes: p = (accepted among the k + shrinkage x overall) / (k + shrinkage). Null below {@code minOutcomes}.
     */
    public Prediction predict(String workerType, String modelId, float[] embedding, int k, int minOutcomes,
                              double shrinkage) {
        Store s = stores.get(key(workerType, modelId));
        if (s == null) {
            return null;
        }
        synchronized (s) {
            if (s.count < Math.max(1, minOutcomes)) {
                return null;
            }
            int kk = Math.min(k, s.count);
            double[] topSim = new double[kk];
            boolean[] topAccepted = new boolean[kk];
            int filled = 0;
            for (int i = 0; i < s.count; i++) {
                double sim = dot(s.embeddings[i], embedding);
                if (filled < kk) {
                    int j = filled++;
                    while (j > 0 && topSim[j - 1] < sim) {
                        topSim[j] = topSim[j - 1];
                        topAccepted[j] = topAccepted[j - 1];
                        j--;
                    }
                    topSim[j] = sim;
                    topAccepted[j] = s.accepted[i];
                } else if (sim > topSim[kk - 1]) {
                    int j = kk - 1;
                    while (j > 0 && topSim[j - 1] < sim) {
                        topSim[j] = topSim[j - 1];
                        topAccepted[j] = topAccepted[j - 1];
                        j--;
                    }
                    topSim[j] = sim;
                    topAccepted[j] = s.accepted[i];
                }
            }
            int acceptedNear = 0;
            for (int i = 0; i < kk; i++) {
                acceptedNear += topAccepted[i] ? 1 : 0;
            }
            double overall = (double) s.acceptedCount / s.count;
            double p = (acceptedNear + shrinkage * overall) / (kk + shrinkage);
            return new Prediction(p, kk, s.count, overall);
        }
    }

    /** Outcome counts per "worker type/model": [outcomes, accepted]. */
    public Map<String, int[]> summary() {
        Map<String, int[]> out = new TreeMap<>();
        stores.forEach((key, s) -> {
            synchronized (s) {
                out.put(key.replace('\n', '/'), new int[] {s.count, s.acceptedCount});
            }
        });
        return out;
    }

    public List<String> pairs() {
        return new ArrayList<>(stores.keySet());
    }

    private static double dot(float[] a, float[] b) {
        int n = Math.min(a.length, b.length);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static String key(String workerType, String modelId) {
        return workerType + "\n" + modelId;
    }
}
