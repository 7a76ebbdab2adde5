package dev.tandem.router.service;

import java.util.Arrays;

/**
 * The last N latencies of one backend and their p95. Hand-written because Micrometer's timers answer "p95 since
 * start" or need a full histogram snapshot per read, while selection needs a cheap, recent p95: it is recomputed
 * on write (once per call) and read as a volatile field on every decision.
 */
public final class LatencyWindow {

    private final double[] samples;
    private final int minSamples;
    private int next;
    private int count;
    private volatile double p95Millis;

    public LatencyWindow(int size, int minSamples) {
        this.samples = new double[Math.max(1, size)];
        this.minSamples = Math.max(1, minSamples);
    }

    public synchronized void record(double millis) {
        samples[next] = millis;
        next = (next + 1) % samples.length;
        if (count < samples.length) {
            count++;
        }
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

    public synchronized int count() {
        return count;
    }
}
