package dev.tandem.router.budget;

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
 * trusted steps in flight two distributions updated one step at a time (O(W^2) multiply-adds at most). This class
 * is the admission decision (the headroom) and the entry point; each window's bookkeeping is {@link BudgetWindow},
 * the pooled distributions of trusted steps in flight {@link InFlightPool}.
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

    private final double share;
    private final int windowSteps;
    private final long settleAfterNanos;
    private final double risk;
    private final double ceilingShare;
    private final LongSupplier clock;
    private final Map<String, BudgetWindow> windows = new ConcurrentHashMap<>();

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
        BudgetWindow w = windows.get(key(workerType, tenant));
        long now = clock.getAsLong();
        InFlightPool pool = new InFlightPool(windowSteps + 1, risk);
        if (own != null) {
            pool.add(own);
        }
        BudgetWindow.Snapshot steps = w == null ? BudgetWindow.Snapshot.EMPTY : w.snapshot(now);
        int past = steps.size();
        double[] overspend = steps.overspendUsd();
        double[] baseline = steps.baselineUsd();
        Risk[] pooled = steps.pooled();
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
     * Overspend of the current window as a share of its all-oracle cost (0 for an empty window), its trusted steps
     * in flight counted at what they are held at.
     */
    public double overspendFraction(String workerType, String tenant) {
        BudgetWindow w = windows.get(key(workerType, tenant));
        if (w == null) {
            return 0;
        }
        BudgetWindow.Snapshot steps = w.snapshot(clock.getAsLong());
        InFlightPool pool = new InFlightPool(windowSteps + 1, risk);
        double o = 0;
        double b = 0;
        for (int i = 0; i < steps.size(); i++) {
            if (steps.pooled()[i] != null) {
                pool.add(steps.pooled()[i]);
            }
            o += steps.overspendUsd()[i];
            b += steps.baselineUsd()[i];
        }
        return b <= 0 ? 0 : (o + pool.heldUsd()) / b;
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
        window(workerType, tenant).admitted(stepKey, baselineEstimateUsd, mostUsd, risk, clock.getAsLong());
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
        window(workerType, tenant).executed(stepKey, baselineUsd, costUsd, reserveUsd, risk, clock.getAsLong());
    }

    /** A dispatch that failed releases its reservation (what it spent on failed attempts is added). */
    public void failed(String workerType, String tenant, String stepKey, double costUsd) {
        BudgetWindow w = windows.get(key(workerType, tenant));
        if (w != null) {
            w.failed(stepKey, costUsd);
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
        return window(workerType, tenant).reviewed(stepKey, costUsd, escalationReserveUsd, clock.getAsLong());
    }

    /**
     * A step's review is starting: its fate is known, so a trusted step leaves the pool and is held at its worst case
     * (its review and escalation) until the review's cost replaces it. Independent outcomes are what the pool's bound
     * rests on: a step still in flight because its review takes long must not count as one whose review is unknown.
     */
    public void reviewing(String workerType, String tenant, String stepKey) {
        BudgetWindow w = windows.get(key(workerType, tenant));
        if (w != null) {
            w.reviewing(stepKey);
        }
    }

    /**
     * A step whose output will not be reviewed blocking: what was held for its review and escalation is released
     * (a shadow review's cost is charged by {@link #reviewed} when it runs). Returns false when the step is not in
     * the window, has not run yet, or holds nothing.
     */
    public boolean settled(String workerType, String tenant, String stepKey) {
        BudgetWindow w = windows.get(key(workerType, tenant));
        return w != null && w.settled(stepKey, clock.getAsLong());
    }

    /**
     * The lock of a (worker type, tenant) window: hold it across a headroom check and the admission that follows, so
     * steps routed at the same time cannot both spend the same headroom.
     */
    public Object lock(String workerType, String tenant) {
        return window(workerType, tenant);
    }

    /** Steps that left the window still holding a reservation (tests). */
    int departed(String workerType, String tenant) {
        BudgetWindow w = windows.get(key(workerType, tenant));
        return w == null ? 0 : w.departed();
    }

    /** Steps in the window (for tests and the admin view). */
    int steps(String workerType, String tenant) {
        BudgetWindow w = windows.get(key(workerType, tenant));
        return w == null ? 0 : w.steps();
    }

    private BudgetWindow window(String workerType, String tenant) {
        return windows.computeIfAbsent(key(workerType, tenant),
                k -> new BudgetWindow(windowSteps, settleAfterNanos, risk > 0));
    }

    private static String key(String workerType, String tenant) {
        return tenant == null || tenant.isEmpty() ? workerType : workerType + '\n' + tenant;
    }
}
