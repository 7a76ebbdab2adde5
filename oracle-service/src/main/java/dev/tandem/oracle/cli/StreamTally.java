package dev.tandem.oracle.cli;

import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.StepResult;

import java.util.Optional;

/**
 * Adds up a stream of task results per block of tasks (and over the whole stream), for the demo's table: how
 * many steps the oracle reviewed (blocking or shadow), how many it redid, and what the tasks cost against the
 * all-oracle baseline. Every figure comes from the tasks' {@code Execute} responses. It also follows every window of
 * {@value #WINDOW} consecutive tasks, the unit of the platform's promise that no window costs more than
 * (1 + e) x the oracle alone, and keeps the dearest one.
 */
final class StreamTally {

    /**
     * What one task contributed.
     *
     * @param steps steps run
     * @param blockingReviews steps the oracle reviewed before their output was used
     * @param shadowReviews steps queued for a review after their output was used (the audit service pays for it
     *                      later; it is not in the task's cost)
     * @param escalations steps whose output was rejected and redone on the oracle tier
     * @param actualUsd what the task cost
     * @param allOracleUsd what it would have cost on the oracle model alone
     * @param failure why the task failed; null when it succeeded
     */
    record TaskOutcome(int steps, int blockingReviews, int shadowReviews, int escalations, double actualUsd,
                       double allOracleUsd, String failure) {

        static TaskOutcome of(ExecuteResponse r) {
            int blocking = 0;
            int shadow = 0;
            int escalations = 0;
            for (StepResult s : r.getStepsList()) {
                if (s.getAudit().getDecision().equals("review")) {
                    if (s.getAudit().getMode().equals("shadow")) {
                        shadow++;
                    } else {
                        blocking++;
                    }
                }
                if (s.getEscalated()) {
                    escalations++;
                }
            }
            return new TaskOutcome(r.getStepsCount(), blocking, shadow, escalations, r.getCost().getActualUsd(),
                    r.getCost().getAllOracleUsd(), null);
        }

        static TaskOutcome failed(String why) {
            return new TaskOutcome(0, 0, 0, 0, 0, 0, why);
        }
    }

    /**
     * Sums over a run of tasks.
     *
     * @param first number (from 1) of the first task summed
     * @param tasks tasks summed, failed ones included
     */
    record Totals(int first, int tasks, int failed, int steps, int blockingReviews, int shadowReviews,
                  int escalations, double actualUsd, double allOracleUsd) {

        static Totals startingAt(int first) {
            return new Totals(first, 0, 0, 0, 0, 0, 0, 0, 0);
        }

        Totals plus(TaskOutcome o) {
            return new Totals(first, tasks + 1, failed + (o.failure() == null ? 0 : 1), steps + o.steps(),
                    blockingReviews + o.blockingReviews(), shadowReviews + o.shadowReviews(),
                    escalations + o.escalations(), actualUsd + o.actualUsd(), allOracleUsd + o.allOracleUsd());
        }

        int last() {
            return first + tasks - 1;
        }

        double blockingShare() {
            return steps == 0 ? 0 : (double) blockingReviews / steps;
        }

        double shadowShare() {
            return steps == 0 ? 0 : (double) shadowReviews / steps;
        }

        /** actual / all-oracle; NaN while nothing was priced. */
        double costRatio() {
            return allOracleUsd > 0 ? actualUsd / allOracleUsd : Double.NaN;
        }
    }

    /**
     * A finished block and everything up to it.
     *
     * @param index block number, from 1
     * @param block the block's tasks
     * @param cumulative every task from the first to the block's last
     */
    record Row(int index, Totals block, Totals cumulative) {
    }

    /**
     * The dearest window of consecutive tasks seen.
     *
     * @param first number (from 1) of the window's first task
     */
    record Window(int first, int tasks, double actualUsd, double allOracleUsd) {

        int last() {
            return first + tasks - 1;
        }

        double costRatio() {
            return allOracleUsd > 0 ? actualUsd / allOracleUsd : Double.NaN;
        }
    }

    static final int WINDOW = 20;

    private final int blockSize;
    private final double[] windowActual = new double[WINDOW];
    private final double[] windowOracle = new double[WINDOW];
    private Window dearest;
    private Totals block = Totals.startingAt(1);
    private Totals cumulative = Totals.startingAt(1);
    private int blocks;

    StreamTally(int blockSize) {
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be at least 1");
        }
        this.blockSize = blockSize;
    }

    /** Adds a task; returns the row when it completes a block. */
    Optional<Row> add(TaskOutcome outcome) {
        block = block.plus(outcome);
        cumulative = cumulative.plus(outcome);
        followWindow(outcome);
        return block.tasks() == blockSize ? Optional.of(closeBlock()) : Optional.empty();
    }

    /** The last, partial block, if tasks were added since the last full one. */
    Optional<Row> finish() {
        return block.tasks() == 0 ? Optional.empty() : Optional.of(closeBlock());
    }

    Totals cumulative() {
        return cumulative;
    }

    /** The window of {@value #WINDOW} consecutive tasks with the highest cost ratio; empty for a shorter stream. */
    Optional<Window> dearestWindow() {
        return Optional.ofNullable(dearest);
    }

    private void followWindow(TaskOutcome outcome) {
        int n = cumulative.tasks();
        windowActual[(n - 1) % WINDOW] = outcome.actualUsd();
        windowOracle[(n - 1) % WINDOW] = outcome.allOracleUsd();
        if (n < WINDOW) {
            return;
        }
        // summed afresh each time: 20 additions, and no drift from adding and subtracting doubles over a long stream
        double actual = 0;
        double oracle = 0;
        for (int i = 0; i < WINDOW; i++) {
            actual += windowActual[i];
            oracle += windowOracle[i];
        }
        var window = new Window(n - WINDOW + 1, WINDOW, actual, oracle);
        if (dearest == null || window.costRatio() > dearest.costRatio()) {
            dearest = window;
        }
    }

    private Row closeBlock() {
        var row = new Row(++blocks, block, cumulative);
        block = Totals.startingAt(cumulative.last() + 1);
        return row;
    }
}
