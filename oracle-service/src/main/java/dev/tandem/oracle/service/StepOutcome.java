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
}
