package dev.tandem.router.service;

import java.util.List;

/**
 * The outcome of a routing decision: every candidate (eligible ones first, in rank order), the chosen one and
 * why, or why nothing qualified.
 *
 * @param eligibleCount number of leading entries of {@code candidates} that are eligible
 */
public record Selection(String workerType, List<CandidateEvaluation> candidates, int eligibleCount,
                        double qualityTarget, String explanation, Failure failure) {

    /** Why no candidate was chosen. */
    public enum Failure {
        /** A candidate was chosen. */
        NONE,
        /** A hard requirement or target excluded every candidate. */
        NO_CANDIDATE,
        /** Candidates qualified but every one of their pools is full. */
        ALL_POOLS_FULL,
        /** Candidates qualified but every one of their circuits is open. */
        ALL_CIRCUITS_OPEN
    }

    public boolean chosen() {
        return eligibleCount > 0;
    }

    /** The chosen candidate; only when {@link #chosen()}. */
    public CandidateEvaluation best() {
        return candidates.get(0);
    }

    public List<CandidateEvaluation> eligible() {
        return candidates.subList(0, eligibleCount);
    }
}
