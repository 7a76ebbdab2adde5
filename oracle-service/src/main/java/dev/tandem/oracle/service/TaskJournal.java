package dev.tandem.oracle.service;

import dev.tandem.proto.oracle.v1.Plan;

import java.util.Map;
import java.util.Optional;

/**
 * What a task has already done durably, and where it records what it does next: nothing for Execute and
 * ExecuteStream (they live in the caller's call), the task store for a submitted task, so that a task resumed after
 * a restart skips its plan and its completed steps.
 */
public interface TaskJournal {

    /** The journal of a task that keeps nothing. */
    TaskJournal NONE = new TaskJournal() {
        @Override
        public Optional<StoredPlan> plan() {
            return Optional.empty();
        }

        @Override
        public Map<String, StepOutcome> completedSteps() {
            return Map.of();
        }

        @Override
        public void planned(Plan plan, double planningUsd) {
        }

        @Override
        public void stepCompleted(StepOutcome outcome) {
        }
    };

    /** A plan made earlier and what making it cost. */
    record StoredPlan(Plan plan, double planningUsd) {
    }

    /** The plan made by an earlier run, if any. */
    Optional<StoredPlan> plan();

    /** Steps an earlier run completed, by step id. */
    Map<String, StepOutcome> completedSteps();

    /** The validated plan, before any step runs. */
    void planned(Plan plan, double planningUsd);

    /** A completed step, before any step that depends on it starts. */
    void stepCompleted(StepOutcome outcome);
}
