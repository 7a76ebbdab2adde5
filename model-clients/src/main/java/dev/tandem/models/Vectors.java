package dev.tandem.models;

import java.util.List;

/** Small vector helpers for normalised embeddings. */
public final class Vectors {

    private Vectors() {
    }

    /** Cosine similarity of two L2-normalised vectors (their dot product). */
    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("dimension mismatch: " + a.length + " vs " + b.length);
        }
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
        }
        return dot;
    }

    /** The L2-normalised mean of vectors: a centroid on the unit sphere. */
    public static float[] centroid(List<float[]> vectors) {
        if (vectors.isEmpty()) {
            throw new IllegalArgumentException("centroid of no vectors");
        }
        int d = vectors.getFirst().length;
        double[] sum = new double[d];
        for (var v : vectors) {
            for (int i = 0; i < d; i++) {
                sum[i] += v[i];
            }
        }
        double norm = 0;
        for (double x : sum) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        float[] out = new float[d];
        for (int i = 0; i < d; i++) {
            out[i] = (float) (norm == 0 ? 0 : sum[i] / norm);
        }
        return out;
    }

    /** Softmax of scores divided by a temperature; numerically stable. */
    public static double[] softmax(double[] scores, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (double s : scores) {
            max = Math.max(max, s);
        }
        double[] out = new double[scores.length];
        double sum = 0;
        for (int i = 0; i < scores.length; i++) {
            out[i] = Math.exp((scores[i] - max) / temperature);
            sum += out[i];
        }
        for (int i = 0; i < out.length; i++) {
            out[i] /= sum;
        }
        return out;
    }
}
