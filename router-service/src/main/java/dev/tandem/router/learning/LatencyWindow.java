package dev.tandem.router.learning;

import java.util.Arrays;

/**
 * The last N calls of one backend: their p95 latency, mean latency of the successful ones and error rate.
 * Hand-written because Micrometer's timers answer "since start" or need a full histogram snapshot per read, while
 * selection needs cheap, recent figures: they are recomputed on write (once per call) and read as volatile fields
 * on every decision.
 */
public final class LatencyWindow {

    private final double[] samples;
    private final boolean[] failed;
    private final int minSamples;
    private int next;
    private int count;
    private volatile double p95Millis;
    private volatile double meanOkMillis;
    private volatile double errorRate;

    public LatencyWindow(int size, int minSamples) {
        this.samples = new double[Math.max(1, size)];
        this.failed = new boolean[samples.length];
        this.minSamples = Math.max(1, minSamples);
    }

    /** A successful call. */
    public void record(double millis) {
        record(millis, true);
    }

    public synchronized void record(double millis, boolean ok) {
        samples[next] = millis;
        failed[next] = !ok;
        next = (next + 1) % samples.length;
        if (count < samples.length) {
            count++;
        }
        int failures = 0;
        int oks = 0;
        double okSum = 0;
        for (int i = 0; i < count; i++) {
            if (failed[i]) {
                failures++;
            } else {
                oks++;
                okSum += samples[i];
            }
        }
        errorRate = (double) failures / count;
        meanOkMillis = oks == 0 ? 0 : okSum / oks;
        if (count >= minSamples) {
            double[] sorted = Arrays.copyOf(samples, count);
            Arrays.sort(sorted);
            p95Millis = sorted[(int) Math.ceil(0.95 * count) - 1];
        }
    }

    /** p95 over the window in milliseconds; 0 while fewer than the minimum samples are in. */
    public double p95Millis() {
        return p95Millis;
    }

    /** Mean latency of the successful calls in the window, in milliseconds; 0 when there are none. */
    public double meanOkMillis() {
        return meanOkMillis;
    }

    /** Share of the calls in the window that failed. */
    public double errorRate() {
        return errorRate;
    }

    public synchronized int count() {
        return count;
    }
}
