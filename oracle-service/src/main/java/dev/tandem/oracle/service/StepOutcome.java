package dev.tandem.oracle.service;

import dev.tandem.proto.oracle.v1.StepResult;

/** A finished step: its result and what its worker's token usage would have cost on the oracle model. */
public record StepOutcome(StepResult result, double oracleBaselineUsd) {
}
