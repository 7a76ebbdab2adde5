package dev.tandem.router.budget;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The exploration budget e: per worker type and tenant, over every window of W consecutive steps, what the steps
 * cost may exceed what the oracle alone would have cost by at most e x that all-oracle cost. Steps are recorded as
 * the router sees them: its admission (a reservation for the most it can cost, so steps routed concurrently see each
 * other), its dispatch (its cost and the oracle baseline, plus a reservation for the worst review and escalation it
 * can still cause), then its review when one comes (the reservation is replaced by what the review
 * cost, and by the escalation's price when it rejected without the reviewer's own output), and an escalation's
 * re-dispatch of the same step (its cost only: the step's baseline is counted once). A reservation no review
 * claims within {@code settleAfterNanos} lapses: the output passed, or its review is a shadow review, whose cost
 * is added when it arrives (to the step, or to the newest step once the step has left the window).
 * <p>
 * <b>Trusted steps in flight</b> (a {@link Risk}: a step of a trusted stream, whose review and rejection happen
 * with known probabilities) are not each held at their worst case: together they are held at the amount their
 * reviews and escalations exceed with probability at most {@code risk} (alpha): the (1 - alpha/2) quantile of the
 * number of them reviewed, and of the number rejected (exact Poisson-binomial distributions of independent steps at
 * their streams' rates), each at the dearest review and escalation among them, never more than the sum of their
 * worst cases. Many steps in flight cost little more than their expectation; one alone is held at its worst case
 * whenever its review is likelier than alpha. A step leaves that pool as soon as its fate is known: its review
 * starts ({@link #reviewing}), it is settled or reviewed. Independently of the rates, the sum of the worst cases of
 * those steps must fit a <b>ceiling</b> (1 + {@code ceilingShare}) x the all-oracle cost: what a window can cost
 * when the rates were wrong (a stream that lost its trust between two audit polls).
 * <p>
 * {@link #headroom} is how much a new step may overspend: the minimum, over the W windows that will contain it,
 * of e x their all-oracle cost minus their overspend so far (settled steps at what they cost, steps in flight at
 * their reservations), counting the steps still to come in each as oracle-direct steps of the same size
 * (overspend 0); and the same against the ceiling with every trusted step in flight at its worst case. A router
 * that only lets a step overspend within that headroom keeps every window within (1 + ceiling) x its all-oracle cost,
 * and within (1 + e) x unless the trusted steps in flight at an admission into it cost more than their bound (at
 * most alpha per admission at the estimated rates), as long as later steps of the window are not much smaller than
 * this one (the lookahead credits them with this step's size) and a step's worst case covers what it really costs.
 * <p>
 * Written by hand: a few sums over a ring of W entries per (worker type, tenant) under one lock each, and for the
 * trusted steps in flight two distributions updated one step at a time (O(W^2) multiply-adds at most).
 */
public class ExplorationBudget {

    /**
     * What a trusted stream's step may still cost beyond its execution: a review with probability
     * {@code reviewProbability} costing at most {@code reviewUsd}, and an escalation with probability
     * {@code rejectProbability} costing at most {@code escalationUsd}.
     */
    public record Risk(double reviewProbability, double reviewUsd, double rejectProbability, double escalationUsd) {

        /** A review and an escalation whenever they can happen. */
        public double worstUsd() {
            return (reviewProbability > 0 ? reviewUsd : 0) + (rejectProbability > 0 ? escalationUsd : 0);
        }
    }

    /**
     * How much a step may overspend, and why: {@code usd} is the least slack over the windows that will contain it;
     * the pool's figures are those of the window ending with it, the one with the most steps in flight (for the
     * explanation of a decision).
     *
     * @param usd            what the step may cost over its oracle-direct price (for a trusted step: its execution
     *                       over that price, its reviews and escalations being counted in the pool)
     * @param trustedInFlight trusted steps in flight in the window ending with the step (itself included when
     *                        trusted)
     * @param reviewsBound   at most this many of them reviewed (at probability 1 - alpha/2)
     * @param rejectsBound   at most this many rejected (idem)
     * @param pooledUsd      what they are held at: the bound, at most the sum of their worst cases
     * @param worstUsd       the sum of their worst cases
     * @param ceilingBinding true when the ceiling, not e, is what limits the step where its slack is least
     */
    public record Headroom(double usd, int trustedInFlight, int reviewsBound, int rejectsBound, double pooledUsd,
                           double worstUsd, boolean ceilingBinding) {
    }

    /** One step's account. */
    static final class Entry {
        final String stepKey;
        double baselineUsd;
        double actualUsd;
        double reservedUsd;
        long reservedUntilNanos;
        boolean ran;
        /** Set while the step is a trusted one in flight whose review is not known yet: pooled, not at its worst. */
        Risk risk;

        Entry(String stepKey) {
            this.stepKey = stepKey;
        }

        double overspendUsd(long now) {
            return actualUsd + (now < reservedUntilNanos ? reservedUsd : 0) - baselineUsd;
        }

        /** The pooled risk while it is active, else null. */
        Risk pooled(long now) {
            return risk != null && now < reservedUntilNanos ? risk : null;
        }

        /** Overspend without the pooled part (what the step is known or held to cost outside the pool). */
        double knownOverspendUsd(long now) {
            Risk r = pooled(now);
            return overspendUsd(now) - (r == null ? 0 : r.worstUsd());
        }
    }

    /**
     * The last W steps of one worker type and tenant, and the steps that left it still holding a reservation (more
     * steps in flight than W): what they still cost is theirs, in the windows that held them (every check of those
     * windows counted their reservation), not the newest step's, so they no longer weigh on the windows to come.
     */
    static final class Window {
        final ArrayDeque<Entry> entries = new ArrayDeque<>();
        final Map<String, Entry> byStep = new HashMap<>();
        final Map<String, Entry> departed = new HashMap<>();
    }

    private final double share;
    private final int windowSteps;
    private final long settleAfterNanos;
    private final double risk;
    private final double ceilingShare;
    private final LongSupplier clock;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    /** Every step at its worst case (no pooling of trusted steps), no ceiling beyond e. */
    public ExplorationBudget(double share, int windowSteps, long settleAfterNanos, LongSupplier clock) {
        this(share, windowSteps, settleAfterNanos, 0, share, clock);
    }

    /**
     * @param risk         alpha: trusted steps in flight are held at what they exceed with at most this probability;
     *                     0 holds every step at its worst case
     * @param ceilingShare what a window may cost over all-oracle if every trusted step in flight costs its worst
     *                     case (at least {@code share})
     */
    public ExplorationBudget(double share, int windowSteps, long settleAfterNanos, double risk, double ceilingShare,
                             LongSupplier clock) {
        this.share = Math.max(0, share);
        this.windowSteps = Math.max(1, windowSteps);
        this.settleAfterNanos = settleAfterNanos;
        this.risk = Math.max(0, Math.min(1, risk));
        this.ceilingShare = Math.max(this.share, ceilingShare);
        this.clock = clock;
    }

    public double share() {
        return share;
    }

    public int windowSteps() {
        return windowSteps;
    }

    /** alpha; 0 when trusted steps are held at their worst case. */
    public double risk() {
        return risk;
    }

    public double ceilingShare() {
        return ceilingShare;
    }

    /** True when steps of trusted streams are pooled (alpha > 0). */
    public boolean pools() {
        return risk > 0;
    }

    /**
     * How much a new step of the given oracle-direct price may cost over that price, so that every window of W steps
     * containing it stays within budget (the steps after it counted as oracle-direct steps of the same price).
     */
    public double headroomUsd(String workerType, String tenant, double stepBaselineUsd) {
        return headroom(workerType, tenant, stepBaselineUsd, null).usd();
    }

    /**
     * The headroom of a new step: for a step held at its worst case ({@code own} null), what its worst case may be;
     * for a trusted step ({@code own} its risk), what its execution may cost over its oracle-direct price, its
     * reviews and escalations being pooled with the other trusted steps in flight.
     */
    public Headroom headroom(String workerType, String tenant, double stepBaselineUsd, Risk own) {
        Window w = windows.get(key(workerType, tenant));
        long now = clock.getAsLong();
        int past;
        double[] overspend;
        double[] baseline;
        Risk[] pooled;
        Pool pool = new Pool(windowSteps + 1, risk);
        if (own != null) {
            pool.add(own);
        }
        if (w == null) {
            past = 0;
            overspend = baseline = new double[0];
            pooled = new Risk[0];
        } else {
            synchronized (w) {
                past = w.entries.size();
                overspend = new double[past];
                baseline = new double[past];
                pooled = new Risk[past];
                int i = 0;
                for (Entry e : w.entries) {
                    Risk r = risk > 0 ? e.pooled(now) : null;
                    pooled[i] = r;
                    overspend[i] = r == null ? e.overspendUsd(now) : e.knownOverspendUsd(now);
                    baseline[i] = e.baselineUsd;
                    i++;
                }

            }
        }
        // window j (j = 0..W-1) holds the newest W-1-j past steps, this step and j later ones
        double least = Double.MAX_VALUE;
        boolean ceiling = false;
        double o = 0;
        double b = 0;
        int from = past; // suffix sums grow from the newest entry backwards
        for (int j = windowSteps - 1; j >= 0; j--) {
            int keep = Math.min(past, windowSteps - 1 - j);
            while (past - from < keep) {
                from--;
                o += overspend[from];
                b += baseline[from];
                if (pooled[from] != null) {
                    pool.add(pooled[from]);
                }
            }
            double allOracle = b + (j + 1) * stepBaselineUsd;
            double held = pool.heldUsd();
            double underShare = share * allOracle - o - held;
            double underCeiling = ceilingShare * allOracle - o - pool.worstUsd;
            double slack = Math.min(underShare, underCeiling);
            if (slack < least) {
                least = slack;
                ceiling = underCeiling < underShare;
            }
        }
        // the figures of the window ending with this step, which holds the most steps in flight
        return new Headroom(least, pool.steps, pool.reviewsBound(), pool.rejectsBound(), pool.heldUsd(),
                pool.worstUsd, ceiling);
    }

    /**
     * Trusted steps in flight: how many of them are reviewed and rejected (Poisson-binomial distributions, one step
     * added at a time), their dearest review and escalation, and the sum of their worst cases.
     */
    static final class Pool {
        double[] reviews;
        double[] rejects;
        int capacity;
        final double tail;
        int steps;
        int rejectable;
        double reviewUsd;
        double escalationUsd;
        double worstUsd;
        private int reviewsTop;
        private int rejectsTop;
        private int reviewsBound = -1;
        private int rejectsBound = -1;
        private int lastReviewsBound;
        private int lastRejectsBound;

        Pool(int capacity, double risk) {
            reviews = new double[capacity + 2];
            rejects = new double[capacity + 2];
            this.capacity = capacity;
            reviews[0] = 1;
            rejects[0] = 1;
            tail = risk / 2; // each count exceeds its bound with at most alpha/2 (union bound)
        }

        void add(Risk r) {
            if (steps + 1 > capacity) {
                capacity *= 2;
                reviews = java.util.Arrays.copyOf(reviews, capacity + 2);
                rejects = java.util.Arrays.copyOf(rejects, capacity + 2);
            }
            steps++;
            worstUsd += r.worstUsd();
            if (r.reviewProbability() > 0) {
                reviewUsd = Math.max(reviewUsd, r.reviewUsd());
            }
            reviewsTop = convolve(reviews, reviewsTop, r.reviewProbability());
            if (r.rejectProbability() > 0 && r.escalationUsd() > 0) {
                escalationUsd = Math.max(escalationUsd, r.escalationUsd());
                rejectable++;
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

    /**
     * Overspend of the current window as a share of its all-oracle cost (0 for an empty window), its trusted steps
     * in flight counted at what they are held at.
     */
    public double overspendFraction(String workerType, String tenant) {
        Window w = windows.get(key(workerType, tenant));
        if (w == null) {
            return 0;
        }
        long now = clock.getAsLong();
        Pool pool = new Pool(windowSteps + 1, risk);
        synchronized (w) {
            double o = 0;
            double b = 0;
            for (Entry e : w.entries) {
                Risk r = risk > 0 ? e.pooled(now) : null;
                if (r != null) {
                    pool.add(r);
                    o += e.knownOverspendUsd(now);
                } else {
                    o += e.overspendUsd(now);
                }
                b += e.baselineUsd;
            }
            return b <= 0 ? 0 : (o + pool.heldUsd()) / b;
        }
    }

    /**
     * A step admitted by routing, before it runs: a new step reserves the most it can cost (so concurrent admissions
     * see each other), with the oracle's estimated price as its baseline until it ran; a step already in the window
     * is an escalation's re-dispatch, whose most adds to the step's reservation.
     */
    public void admitted(String workerType, String tenant, String stepKey, double baselineEstimateUsd,
                         double mostUsd) {
        admitted(workerType, tenant, stepKey, baselineEstimateUsd, mostUsd, null);
    }

    /**
     * A step admitted by routing; with a {@code risk} (a trusted stream's step, {@code mostUsd} its execution
     * estimate plus the risk's worst case) its review and escalation are pooled with the other trusted steps in
     * flight until its fate is known.
     */
    public void admitted(String workerType, String tenant, String stepKey, double baselineEstimateUsd,
                         double mostUsd, Risk risk) {
        Window w = windows.computeIfAbsent(key(workerType, tenant), k -> new Window());
        long now = clock.getAsLong();
        synchronized (w) {
            Entry e = w.byStep.get(stepKey);
            if (e != null) {
                e.reservedUsd = (now < e.reservedUntilNanos ? e.reservedUsd : 0) + Math.max(0, mostUsd);
                e.reservedUntilNanos = now + settleAfterNanos;
                e.risk = null; // a re-dispatch: held at its worst case
                return;
            }
            w.departed.remove(stepKey); // an escalation's re-dispatch of a step that left: recorded as new
            e = new Entry(stepKey);
            e.baselineUsd = baselineEstimateUsd;
            e.reservedUsd = Math.max(0, mostUsd);
            e.reservedUntilNanos = now + settleAfterNanos;
            e.risk = poolable(risk);
            w.entries.addLast(e);
            w.byStep.put(stepKey, e);
            while (w.entries.size() > windowSteps) {
                Entry old = w.entries.removeFirst();
                w.byStep.remove(old.stepKey);
                if (old.reservedUsd > 0 && now < old.reservedUntilNanos) {
                    w.departed.put(old.stepKey, old);
                }
            }
            if (w.departed.size() > 4 * windowSteps) {
                w.departed.values().removeIf(d -> now >= d.reservedUntilNanos);
            }
        }
    }

    private Risk poolable(Risk r) {
        return risk > 0 && r != null && r.worstUsd() > 0 ? r : null;
    }

    /**
     * A step's dispatch finished: its cost is added; on its first dispatch the oracle baseline of what it returned
     * replaces the estimate and {@code reserveUsd}, the most its review and escalation can still cost, replaces the
     * reservation; an escalation's re-dispatch releases its reservation. A step not admitted first (the window had
     * moved on) is recorded as new.
     */
    public void executed(String workerType, String tenant, String stepKey, double baselineUsd, double costUsd,
                         double reserveUsd) {
        executed(workerType, tenant, stepKey, baselineUsd, costUsd, reserveUsd, null);
    }

    /**
     * A step's dispatch finished; with a {@code risk} (the executing candidate is a trusted stream's, and
     * {@code reserveUsd} the risk's worst case) the review and escalation stay pooled until the step's fate is known.
     */
    public void executed(String workerType, String tenant, String stepKey, double baselineUsd, double costUsd,
                         double reserveUsd, Risk risk) {
        Window w = windows.computeIfAbsent(key(workerType, tenant), k -> new Window());
        long now = clock.getAsLong();
        synchronized (w) {
            Entry e = w.byStep.get(stepKey);
            if (e == null) {
                admitted(workerType, tenant, stepKey, baselineUsd, 0);
                e = w.byStep.get(stepKey);
            }
            e.actualUsd += costUsd;
            if (!e.ran) {
                e.ran = true;
                e.baselineUsd = baselineUsd;
                e.reservedUsd = Math.max(0, reserveUsd);
                e.risk = poolable(risk);
            } else {
                e.reservedUsd = 0;
                e.risk = null;
            }
            e.reservedUntilNanos = e.reservedUsd > 0 ? now + settleAfterNanos : 0;
        }
    }

    /** A dispatch that failed releases its reservation (what it spent on failed attempts is added). */
    public void failed(String workerType, String tenant, String stepKey, double costUsd) {
        Window w = windows.get(key(workerType, tenant));
        if (w == null) {
            return;
        }
        synchronized (w) {
            Entry e = w.byStep.get(stepKey);
            if (e == null) {
                w.departed.remove(stepKey);
            } else {
                e.actualUsd += costUsd;
                e.reservedUsd = 0;
                e.reservedUntilNanos = 0;
                e.risk = null;
            }
        }
    }

    /** A dispatch of a step, admitted and executed at once (tests and callers that need no admission). */
    public void dispatched(String workerType, String tenant, String stepKey, double baselineUsd, double costUsd,
                           double reserveUsd) {
        admitted(workerType, tenant, stepKey, baselineUsd, costUsd + reserveUsd);
        executed(workerType, tenant, stepKey, baselineUsd, costUsd, reserveUsd);
    }

    /** A trusted stream's step, admitted and executed at once: its review and escalation pooled ({@code risk}). */
    public void dispatched(String workerType, String tenant, String stepKey, double baselineUsd, double costUsd,
                           Risk risk) {
        double reserve = risk == null ? 0 : risk.worstUsd();
        admitted(workerType, tenant, stepKey, baselineUsd, costUsd + reserve, risk);
        executed(workerType, tenant, stepKey, baselineUsd, costUsd, reserve, risk);
    }

    /**
     * A review of a step: its cost replaces the step's reservation; a rejection without the reviewer's own output
     * keeps {@code escalationReserveUsd} reserved for the re-dispatch on the oracle. Returns the step's oracle
     * baseline, 0 when the step is no longer in the window.
     */
    public double reviewed(String workerType, String tenant, String stepKey, double costUsd,
                           double escalationReserveUsd) {
        Window w = windows.computeIfAbsent(key(workerType, tenant), k -> new Window());
        long now = clock.getAsLong();
        synchronized (w) {
            Entry e = w.byStep.get(stepKey);
            if (e == null) {
                Entry gone = w.departed.remove(stepKey);
                if (gone != null) {
                    // left the window in flight: its review is its own, within the reservation its windows counted
                    // (a redo is a new step: its re-dispatch is admitted and recorded as one)
                    gone.actualUsd += costUsd;
                    return gone.ran ? gone.baselineUsd : 0;
                }
                // a step no longer held here (a shadow review after its release): charged to the newest step
                Entry newest = w.entries.peekLast();
                if (newest == null) {
                    return 0; // nothing to charge: the window is empty (a review of a step never dispatched here)
                }
                newest.actualUsd += costUsd;
                return 0;
            }
            double baseline = e.ran ? e.baselineUsd : 0;
            e.actualUsd += costUsd;
            e.risk = null;
            e.reservedUsd = Math.max(0, escalationReserveUsd);
            e.reservedUntilNanos = escalationReserveUsd > 0 ? now + settleAfterNanos : 0;
            return baseline;
        }
    }

    /**
     * A step's review is starting: its fate is known, so a trusted step leaves the pool and is held at its worst case
     * (its review and escalation) until the review's cost replaces it. Independent outcomes are what the pool's bound
     * rests on: a step still in flight because its review takes long must not count as one whose review is unknown.
     */
    public void reviewing(String workerType, String tenant, String stepKey) {
        Window w = windows.get(key(workerType, tenant));
        if (w == null) {
            return;
        }
        synchronized (w) {
            Entry e = w.byStep.get(stepKey);
            if (e != null) {
                e.risk = null;
            }
        }
    }

    /**
     * A step whose output will not be reviewed blocking: what was held for its review and escalation is released
     * (a shadow review's cost is charged by {@link #reviewed} when it runs). Returns false when the step is not in
     * the window, has not run yet, or holds nothing.
     */
    public boolean settled(String workerType, String tenant, String stepKey) {
        Window w = windows.get(key(workerType, tenant));
        if (w == null) {
            return false;
        }
        long now = clock.getAsLong();
        synchronized (w) {
            Entry e = w.byStep.get(stepKey);
            if (e == null) {
                e = w.departed.remove(stepKey);
            }
            if (e == null || !e.ran || e.reservedUsd <= 0 || now >= e.reservedUntilNanos) {
                return false;
            }
            e.reservedUsd = 0;
            e.reservedUntilNanos = 0;
            e.risk = null;
            return true;
        }
    }

    /**
     * The lock of a (worker type, tenant) window: hold it across a headroom check and the admission that follows, so
     * steps routed at the same time cannot both spend the same headroom.
     */
    public Object lock(String workerType, String tenant) {
        return windows.computeIfAbsent(key(workerType, tenant), k -> new Window());
    }

    /** Steps that left the window still holding a reservation (tests). */
    int departed(String workerType, String tenant) {
        Window w = windows.get(key(workerType, tenant));
        return w == null ? 0 : w.departed.size();
    }

    /** Steps in the window (for tests and the admin view). */
    int steps(String workerType, String tenant) {
        Window w = windows.get(key(workerType, tenant));
        return w == null ? 0 : w.entries.size();
    }

    private static String key(String workerType, String tenant) {
        return tenant == null || tenant.isEmpty() ? workerType : workerType + '\n' + tenant;
    }
}
