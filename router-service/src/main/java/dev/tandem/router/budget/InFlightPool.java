package dev.tandem.router.budget;

import java.util.Arrays;

/**
 * Trusted steps in flight: how many of them are reviewed and rejected (Poisson-binomial distributions, one step
 * added at a time), their dearest review and escalation, and the sum of their worst cases. {@link ExplorationBudget}
 * builds one per headroom check from a window's steps, so it is confined to one thread and holds no lock.
 */
final class InFlightPool {
    private double[] reviews;
    private double[] rejects;
    private int capacity;
    private final double tail;
    int steps;
    private double reviewUsd;
    private double escalationUsd;
    double worstUsd;
    private int reviewsTop;
    private int rejectsTop;
    private int reviewsBound = -1;
    private int rejectsBound = -1;
    private int lastReviewsBound;
    private int lastRejectsBound;

    InFlightPool(int capacity, double risk) {
        reviews = new double[capacity + 2];
        rejects = new double[capacity + 2];
        this.capacity = capacity;
        reviews[0] = 1;
        rejects[0] = 1;
        tail = risk / 2; // each count exceeds its bound with at most alpha/2 (union bound)
    }

    void add(ExplorationBudget.Risk r) {
        if (steps + 1 > capacity) {
            capacity *= 2;
            reviews = Arrays.copyOf(reviews, capacity + 2);
            rejects = Arrays.copyOf(rejects, capacity + 2);
        }
        steps++;
        worstUsd += r.worstUsd();
        if (r.reviewProbability() > 0) {
            reviewUsd = Math.max(reviewUsd, r.reviewUsd());
        }
        reviewsTop = convolve(reviews, reviewsTop, r.reviewProbability());
        if (r.rejectProbability() > 0 && r.escalationUsd() > 0) {
            escalationUsd = Math.max(escalationUsd, r.escalationUsd());
            rejectsTop = convolve(rejects, rejectsTop, r.rejectProbability());
        }
        reviewsBound = -1;
        rejectsBound = -1;
    }

    /**
     * Adds one Bernoulli(p) to the distribution of a count whose mass lies in [0, top]; returns the new top. Mass
     * under 1e-18 at the top is dropped (at most W x 1e-18 in all, nothing against alpha), so a pool costs about
     * (its bound + 15) multiply-adds per step rather than its size.
     */
    private static int convolve(double[] pmf, int top, double p) {
        double q = Math.max(0, Math.min(1, p));
        int n = top + 1;
        for (int k = n; k >= 1; k--) {
            pmf[k] = pmf[k] * (1 - q) + pmf[k - 1] * q;
        }
        pmf[0] *= 1 - q;
        while (n > 0 && pmf[n] < 1e-18) {
            pmf[n--] = 0;
        }
        return n;
    }

    /**
     * The least k with P(count > k) <= tail, searched upwards from {@code from} (a bound of the pool before its
     * last steps were added: the count only grows stochastically as steps are added).
     */
    private int bound(double[] pmf, int top, int from) {
        int k = Math.max(0, Math.min(from, top));
        double atMost = 0;
        for (int i = 0; i <= k; i++) {
            atMost += pmf[i];
        }
        while (k < top && 1 - atMost > tail) {
            atMost += pmf[++k];
        }
        return k;
    }

    int reviewsBound() {
        if (reviewsBound < 0) {
            reviewsBound = bound(reviews, reviewsTop, lastReviewsBound);
            lastReviewsBound = reviewsBound;
        }
        return reviewsBound;
    }

    int rejectsBound() {
        if (rejectsBound < 0) {
            rejectsBound = bound(rejects, rejectsTop, lastRejectsBound);
            lastRejectsBound = rejectsBound;
        }
        return rejectsBound;
    }

    /** What the pool is held at: its bound, at most the sum of its worst cases. */
    double heldUsd() {
        if (steps == 0) {
            return 0;
        }
        return Math.min(worstUsd, reviewsBound() * reviewUsd + rejectsBound() * escalationUsd);
    }
}
