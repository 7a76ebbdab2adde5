package dev.tandem.router.budget;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The accounts of the last W steps of one worker type and tenant: what each step cost, its oracle baseline, what it
 * holds reserved and until when, and whether its review and escalation are pooled with the other trusted steps in
 * flight. Also the steps that left it still holding a reservation (more steps in flight than W): what they still
 * cost is theirs, in the windows that held them (every check of those windows counted their reservation), not the
 * newest step's, so they no longer weigh on the windows to come.
 * <p>
 * The bookkeeping half of the exploration budget: {@link ExplorationBudget} decides from a {@link #snapshot} how much
 * a new step may overspend. Every method holds this window's monitor, which {@link ExplorationBudget#lock} also hands
 * out so that a headroom check and the admission that follows hold it together.
 */
final class BudgetWindow {

    /** One step's account. */
    static final class Entry {
        final String stepKey;
        double baselineUsd;
        double actualUsd;
        double reservedUsd;
        long reservedUntilNanos;
        boolean ran;
        /** Set while the step is a trusted one in flight whose review is not known yet: pooled, not at its worst. */
        ExplorationBudget.Risk risk;

        Entry(String stepKey) {
            this.stepKey = stepKey;
        }

        double overspendUsd(long now) {
            return actualUsd + (now < reservedUntilNanos ? reservedUsd : 0) - baselineUsd;
        }

        /** The pooled risk while it is active, else null. */
        ExplorationBudget.Risk pooled(long now) {
            return risk != null && now < reservedUntilNanos ? risk : null;
        }

        /** Overspend without the pooled part (what the step is known or held to cost outside the pool). */
        double knownOverspendUsd(long now) {
            ExplorationBudget.Risk r = pooled(now);
            return overspendUsd(now) - (r == null ? 0 : r.worstUsd());
        }
    }

    /**
     * The window's steps, oldest first: each one's overspend (a pooled step's without its pooled part), its baseline,
     * and its pooled risk (null when it is held at its worst case, or when nothing is pooled).
     */
    record Snapshot(double[] overspendUsd, double[] baselineUsd, ExplorationBudget.Risk[] pooled) {

        static final Snapshot EMPTY = new Snapshot(new double[0], new double[0], new ExplorationBudget.Risk[0]);

        int size() {
            return overspendUsd.length;
        }
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final Map<String, Entry> byStep = new HashMap<>();
    private final Map<String, Entry> departed = new HashMap<>();
    private final int windowSteps;
    private final long settleAfterNanos;
    /** Whether trusted steps are pooled at all (alpha > 0). */
    private final boolean pooling;

    BudgetWindow(int windowSteps, long settleAfterNanos, boolean pooling) {
        this.windowSteps = windowSteps;
        this.settleAfterNanos = settleAfterNanos;
        this.pooling = pooling;
    }

    /** The window's steps as a headroom check reads them at {@code now}. */
    synchronized Snapshot snapshot(long now) {
        int n = entries.size();
        double[] overspend = new double[n];
        double[] baseline = new double[n];
        ExplorationBudget.Risk[] pooled = new ExplorationBudget.Risk[n];
        int i = 0;
        for (Entry e : entries) {
            ExplorationBudget.Risk r = pooling ? e.pooled(now) : null;
            pooled[i] = r;
            overspend[i] = r == null ? e.overspendUsd(now) : e.knownOverspendUsd(now);
            baseline[i] = e.baselineUsd;
            i++;
        }
        return new Snapshot(overspend, baseline, pooled);
    }

    /** See {@link ExplorationBudget#admitted(String, String, String, double, double, ExplorationBudget.Risk)}. */
    synchronized void admitted(String stepKey, double baselineEstimateUsd, double mostUsd, ExplorationBudget.Risk risk,
                               long now) {
        Entry e = byStep.get(stepKey);
        if (e != null) {
            e.reservedUsd = (now < e.reservedUntilNanos ? e.reservedUsd : 0) + Math.max(0, mostUsd);
            e.reservedUntilNanos = now + settleAfterNanos;
            e.risk = null; // a re-dispatch: held at its worst case
            return;
        }
        departed.remove(stepKey); // an escalation's re-dispatch of a step that left: recorded as new
        e = new Entry(stepKey);
        e.baselineUsd = baselineEstimateUsd;
        e.reservedUsd = Math.max(0, mostUsd);
        e.reservedUntilNanos = now + settleAfterNanos;
        e.risk = poolable(risk);
        entries.addLast(e);
        byStep.put(stepKey, e);
        while (entries.size() > windowSteps) {
            Entry old = entries.removeFirst();
            byStep.remove(old.stepKey);
            if (old.reservedUsd > 0 && now < old.reservedUntilNanos) {
                departed.put(old.stepKey, old);
            }
        }
        if (departed.size() > 4 * windowSteps) {
            departed.values().removeIf(d -> now >= d.reservedUntilNanos);
        }
    }

    private ExplorationBudget.Risk poolable(ExplorationBudget.Risk r) {
        return pooling && r != null && r.worstUsd() > 0 ? r : null;
    }

    /** See {@link ExplorationBudget#executed(String, String, String, double, double, double, ExplorationBudget.Risk)}. */
    synchronized void executed(String stepKey, double baselineUsd, double costUsd, double reserveUsd,
                               ExplorationBudget.Risk risk, long now) {
        Entry e = byStep.get(stepKey);
        if (e == null) {
            admitted(stepKey, baselineUsd, 0, null, now);
            e = byStep.get(stepKey);
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

    /** See {@link ExplorationBudget#failed}. */
    synchronized void failed(String stepKey, double costUsd) {
        Entry e = byStep.get(stepKey);
        if (e == null) {
            departed.remove(stepKey);
        } else {
            e.actualUsd += costUsd;
            e.reservedUsd = 0;
            e.reservedUntilNanos = 0;
            e.risk = null;
        }
    }

    /** See {@link ExplorationBudget#reviewed}. */
    synchronized double reviewed(String stepKey, double costUsd, double escalationReserveUsd, long now) {
        Entry e = byStep.get(stepKey);
        if (e == null) {
            Entry gone = departed.remove(stepKey);
            if (gone != null) {
                // left the window in flight: its review is its own, within the reservation its windows counted
                // (a redo is a new step: its re-dispatch is admitted and recorded as one)
                gone.actualUsd += costUsd;
                return gone.ran ? gone.baselineUsd : 0;
            }
            // a step no longer held here (a shadow review after its release): charged to the newest step
            Entry newest = entries.peekLast();
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

    /** See {@link ExplorationBudget#reviewing}. */
    synchronized void reviewing(String stepKey) {
        Entry e = byStep.get(stepKey);
        if (e != null) {
            e.risk = null;
        }
    }

    /** See {@link ExplorationBudget#settled}. */
    synchronized boolean settled(String stepKey, long now) {
        Entry e = byStep.get(stepKey);
        if (e == null) {
            e = departed.remove(stepKey);
        }
        if (e == null || !e.ran || e.reservedUsd <= 0 || now >= e.reservedUntilNanos) {
            return false;
        }
        e.reservedUsd = 0;
        e.reservedUntilNanos = 0;
        e.risk = null;
        return true;
    }

    synchronized int steps() {
        return entries.size();
    }

    synchronized int departed() {
        return departed.size();
    }
}
