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
 * {@link #headroomUsd} is how much a new step may overspend: the minimum, over the W windows that will contain it,
 * of e x their all-oracle cost minus their overspend so far, counting the steps still to come in each as oracle-direct
 * steps of the same size (overspend 0). A router that only lets a step overspend within that headroom keeps every
 * window within (1 + e) x its all-oracle cost as long as later steps of the window are not much smaller than this one
 * (the lookahead credits them with this step's size) and the reservations cover what the steps really cost.
 * <p>
 * Written by hand: it is a few sums over a ring of W entries per (worker type, tenant) under one lock each.
 */
public class ExplorationBudget {

    /** One step's account. */
    static final class Entry {
        final String stepKey;
        double baselineUsd;
        double actualUsd;
        double reservedUsd;
        long reservedUntilNanos;
        boolean ran;

        Entry(String stepKey) {
            this.stepKey = stepKey;
        }

        double overspendUsd(long now) {
            return actualUsd + (now < reservedUntilNanos ? reservedUsd : 0) - baselineUsd;
        }
    }

    /** The last W steps of one worker type and tenant. */
    static final class Window {
        final ArrayDeque<Entry> entries = new ArrayDeque<>();
        final Map<String, Entry> byStep = new HashMap<>();
    }

    private final double share;
    private final int windowSteps;
    private final long settleAfterNanos;
    private final LongSupplier clock;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    public ExplorationBudget(double share, int windowSteps, long settleAfterNanos, LongSupplier clock) {
        this.share = Math.max(0, share);
        this.windowSteps = Math.max(1, windowSteps);
        this.settleAfterNanos = settleAfterNanos;
        this.clock = clock;
    }

    public double share() {
        return share;
    }

    public int windowSteps() {
        return windowSteps;
    }

    /**
     * How much a new step of the given oracle-direct price may cost over that price, so that every window of W steps
     * containing it stays within budget (the steps after it counted as oracle-direct steps of the same price).
     */
    public double headroomUsd(String workerType, String tenant, double stepBaselineUsd) {
        Window w = windows.get(key(workerType, tenant));
        if (w == null) {
            return share * stepBaselineUsd;
        }
        long now = clock.getAsLong();
        synchronized (w) {
            int past = w.entries.size();
            double[] overspend = new double[past];
            double[] baseline = new double[past];
            int i = 0;
            for (Entry e : w.entries) {
                overspend[i] = e.overspendUsd(now);
                baseline[i] = e.baselineUsd;
                i++;
            }
            // window j (j = 0..W-1) holds the newest W-1-j past steps, this step and j later ones
            double headroom = Double.MAX_VALUE;
            double o = 0;
            double b = 0;
            int from = past; // suffix sums grow from the newest entry backwards
            for (int j = windowSteps - 1; j >= 0; j--) {
                int keep = Math.min(past, windowSteps - 1 - j);
                while (past - from < keep) {
                    from--;
                    o += overspend[from];
                    b += baseline[from];
                }
                headroom = Math.min(headroom, share * (b + (j + 1) * stepBaselineUsd) - o);
            }
            return headroom;
        }
    }

    /** Overspend of the current window as a share of its all-oracle cost (0 for an empty window). */
    public double overspendFraction(String workerType, String tenant) {
        Window w = windows.get(key(workerType, tenant));
        if (w == null) {
            return 0;
        }
        long now = clock.getAsLong();
        synchronized (w) {
            double o = 0;
            double b = 0;
            for (Entry e : w.entries) {
                o += e.overspendUsd(now);
                b += e.baselineUsd;
            }
            return b <= 0 ? 0 : o / b;
        }
    }

    /**
     * A step admitted by routing, before it runs: a new step reserves the most it can cost (so concurrent admissions
     * see each other), with the oracle's estimated price as its baseline until it ran; a step already in the window
     * is an escalation's re-dispatch, whose most adds to the step's reservation.
     */
    public void admitted(String workerType, String tenant, String stepKey, double baselineEstimateUsd,
                         double mostUsd) {
        Window w = windows.computeIfAbsent(key(workerType, tenant), k -> new Window());
        long now = clock.getAsLong();
        synchronized (w) {
            Entry e = w.byStep.get(stepKey);
            if (e != null) {
                e.reservedUsd = (now < e.reservedUntilNanos ? e.reservedUsd : 0) + Math.max(0, mostUsd);
                e.reservedUntilNanos = now + settleAfterNanos;
                return;
            }
            e = new Entry(stepKey);
            e.baselineUsd = baselineEstimateUsd;
            e.reservedUsd = Math.max(0, mostUsd);
            e.reservedUntilNanos = now + settleAfterNanos;
            w.entries.addLast(e);
            w.byStep.put(stepKey, e);
            while (w.entries.size() > windowSteps) {
                Entry old = w.entries.removeFirst();
                w.byStep.remove(old.stepKey);
            }
        }
    }

    /**
     * A step's dispatch finished: its cost is added; on its first dispatch the oracle baseline of what it returned
     * replaces the estimate and {@code reserveUsd}, the most its review and escalation can still cost, replaces the
     * reservation; an escalation's re-dispatch releases its reservation. A step not admitted first (the window had
     * moved on) is recorded as new.
     */
    public void executed(String workerType, String tenant, String stepKey, double baselineUsd, double costUsd,
                         double reserveUsd) {
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
            } else {
                e.reservedUsd = 0;
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
            if (e != null) {
                e.actualUsd += costUsd;
                e.reservedUsd = 0;
                e.reservedUntilNanos = 0;
            }
        }
    }

    /** A dispatch of a step, admitted and executed at once (tests and callers that need no admission). */
    public void dispatched(String workerType, String tenant, String stepKey, double baselineUsd, double costUsd,
                           double reserveUsd) {
        admitted(workerType, tenant, stepKey, baselineUsd, costUsd + reserveUsd);
        executed(workerType, tenant, stepKey, baselineUsd, costUsd, reserveUsd);
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
            double baseline = e != null && e.ran ? e.baselineUsd : 0;
            if (e == null) {
                e = w.entries.peekLast();
                if (e == null) {
                    return 0; // nothing to charge: the window is empty (a review of a step never dispatched here)
                }
            }
            e.actualUsd += costUsd;
            e.reservedUsd = Math.max(0, escalationReserveUsd);
            e.reservedUntilNanos = escalationReserveUsd > 0 ? now + settleAfterNanos : 0;
            return baseline;
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
            if (e == null || !e.ran || e.reservedUsd <= 0 || now >= e.reservedUntilNanos) {
                return false;
            }
            e.reservedUsd = 0;
            e.reservedUntilNanos = 0;
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

    /** Steps in the window (for tests and the admin view). */
    int steps(String workerType, String tenant) {
        Window w = windows.get(key(workerType, tenant));
        return w == null ? 0 : w.entries.size();
    }

    private static String key(String workerType, String tenant) {
        return tenant == null || tenant.isEmpty() ? workerType : workerType + '\n' + tenant;
    }
}
