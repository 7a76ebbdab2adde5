package dev.tandem.system.bench;

import java.util.Arrays;

/**
 * Issue 15's "never above" measure of a stream: for every window of {@code width} consecutive tasks, from the first
 * task on (tasks 1-20, 2-21, ...), what the tasks actually cost over what the oracle alone would have cost for the
 * same tasks. A stream shorter than one window is one window.
 *
 * @param windows    how many windows the stream has
 * @param first      the ratio of the first window (tasks 1 to {@code width})
 * @param max        the largest ratio
 * @param maxStart   the first task (from 1) of the window with the largest ratio
 * @param p95        the 95th percentile of the ratios (nearest rank)
 * @param over       windows whose ratio is above {@code limit}
 * @param limit      the limit counted against, e.g. 1.05 (1 + e)
 */
record CostWindows(int width, int windows, double first, double max, int maxStart, double p95, int over,
                   double limit) {

    /**
     * @param actual   each task's actual cost, in stream order
     * @param baseline each task's all-oracle cost, in the same order
     */
    static CostWindows of(double[] actual, double[] baseline, int width, double limit) {
        if (actual.length != baseline.length) {
            throw new IllegalArgumentException("actual and baseline costs differ in length: " + actual.length
                    + " vs " + baseline.length);
        }
        if (width < 1) {
            throw new IllegalArgumentException("a window holds at least one task: " + width);
        }
        int n = actual.length;
        if (n == 0) {
            return new CostWindows(width, 0, Double.NaN, Double.NaN, 0, Double.NaN, 0, limit);
        }
        int w = Math.min(width, n);
        double[] ratios = new double[n - w + 1];
        double a = 0;
        double b = 0;
        for (int i = 0; i < w; i++) {
            a += actual[i];
            b += baseline[i];
        }
        ratios[0] = ratio(a, b);
        for (int start = 1; start < ratios.length; start++) {
            // a fresh sum per window: no drift from adding and subtracting thousands of small amounts
            a = 0;
            b = 0;
            for (int i = start; i < start + w; i++) {
                a += actual[i];
                b += baseline[i];
            }
            ratios[start] = ratio(a, b);
        }
        int maxAt = 0;
        int over = 0;
        for (int i = 0; i < ratios.length; i++) {
            if (ratios[i] > ratios[maxAt]) {
                maxAt = i;
            }
            if (ratios[i] > limit) {
                over++;
            }
        }
        double[] sorted = ratios.clone();
        Arrays.sort(sorted);
        double p95 = sorted[(int) Math.ceil(0.95 * sorted.length) - 1];
        return new CostWindows(w, ratios.length, ratios[0], ratios[maxAt], maxAt + 1, p95, over, limit);
    }

    private static double ratio(double actual, double baseline) {
        if (baseline <= 0) {
            throw new IllegalArgumentException("a window's all-oracle cost must be positive: " + baseline);
        }
        return actual / baseline;
    }
}
