package dev.tandem.oracle.service;

import dev.tandem.proto.oracle.v1.StepResult;

/**
 * A finished step: its result, what its worker's token usage would have cost on the oracle model, and the part of
 * its cost charged to the exploration budget (what it cost over the oracle's price while its worker stream was
 * still earning trust; 0 otherwise).
 */
public record StepOutcome(StepResult result, double oracleBaselineUsd, double explorationUsd) {

    public StepOutcome(StepResult result, double oracleBaselineUsd) {
        this(result, oracleBaselineUsd, 0);
    }

    /**
     * This run with the cost of the step's earlier, discarded runs added (they were paid for) and why it ran again.
     * The oracle baseline stays this run's: the oracle alone would have run the step once.
     */
    public StepOutcome afterDiscarded(StepOutcome earlier, String rerunReason) {
        return new StepOutcome(result.toBuilder().setCostUsd(result.getCostUsd() + earlier.result().getCostUsd())
                .setBatchDiscountUsd(result.getBatchDiscountUsd() + earlier.result().getBatchDiscountUsd())
                .setRerunReason(rerunReason).build(), oracleBaselineUsd, explorationUsd + earlier.explorationUsd());
    }

    /** Earlier discarded runs of one step, summed (their costs). */
    public StepOutcome plus(StepOutcome other) {
        return new StepOutcome(result.toBuilder().setCostUsd(result.getCostUsd() + other.result().getCostUsd())
                .setBatchDiscountUsd(result.getBatchDiscountUsd() + other.result().getBatchDiscountUsd()).build(),
                oracleBaselineUsd, explorationUsd + other.explorationUsd());
    }
}
