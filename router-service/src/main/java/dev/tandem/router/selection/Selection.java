package dev.tandem.router.selection;

import java.util.ArrayList;
import java.util.List;

import dev.tandem.router.budget.Budget;

/**
 * The outcome of a routing decision: every candidate (eligible ones first, in rank order), the chosen one and
 * why, or why nothing qualified.
 *
 * @param eligibleCount   number of leading entries of {@code candidates} that are eligible
 * @param policy          the routing policy that ranked the candidates
 * @param exploration     true when the first candidate was picked to explore a model with too few verdicts
 * @param budgetDowngrade true when the preferred candidate exceeded a budget and the cheapest qualifying one leads
 * @param bindingBudget   the budget that excluded every candidate (failure BUDGET_EXCEEDED) or forced the
 *                        downgrade, else null
 * @param retryAfterNanos when every candidate is rate limited or full: how long until one may be free
 * @param earningTrust    true when the chosen candidate's stream is still earning trust (every output reviewed)
 * @param windowOverspendFraction spend over oracle-direct in the worker type's and tenant's exploration window, as
 *                        a share of its all-oracle cost, when the decision was taken
 */
public record Selection(String workerType, List<CandidateEvaluation> candidates, int eligibleCount,
                        double qualityTarget, String explanation, Failure failure, String policy,
                        boolean exploration, boolean budgetDowngrade, Budget bindingBudget, long retryAfterNanos,
                        boolean earningTrust, double windowOverspendFraction) {

    public Selection(String workerType, List<CandidateEvaluation> candidates, int eligibleCount,
                     double qualityTarget, String explanation, Failure failure, String policy,
                     boolean exploration, boolean budgetDowngrade, Budget bindingBudget, long retryAfterNanos) {
        this(workerType, candidates, eligibleCount, qualityTarget, explanation, failure, policy, exploration,
                budgetDowngrade, bindingBudget, retryAfterNanos, false, 0);
    }

    /** Why no candidate was chosen. */
    public enum Failure {
        /** A candidate was chosen. */
        NONE,
        /** A hard requirement or target excluded every candidate. */
        NO_CANDIDATE,
        /** Candidates qualified but every one of their pools is full: the step is shed. */
        ALL_POOLS_FULL,
        /** Candidates qualified but every one of them is rate limited by its provider. */
        ALL_RATE_LIMITED,
        /** Candidates qualified but every one of their circuits is open. */
        ALL_CIRCUITS_OPEN,
        /** Candidates qualified but none fits the budget. */
        BUDGET_EXCEEDED
    }

    public Selection(String workerType, List<CandidateEvaluation> candidates, int eligibleCount,
                     double qualityTarget, String explanation, Failure failure) {
        this(workerType, candidates, eligibleCount, qualityTarget, explanation, failure, "default", false, false,
                null, 0);
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

    public Selection withPolicy(String name, String explanationPrefix) {
        return new Selection(workerType, candidates, eligibleCount, qualityTarget,
                explanationPrefix == null ? explanation : explanationPrefix + explanation, failure, name,
                exploration, budgetDowngrade, bindingBudget, retryAfterNanos, earningTrust, windowOverspendFraction);
    }

    /** The same decision with {@code suffix} appended to its explanation. */
    public Selection withExplanationSuffix(String suffix) {
        return new Selection(workerType, candidates, eligibleCount, qualityTarget, explanation + suffix, failure, policy,
                exploration, budgetDowngrade, bindingBudget, retryAfterNanos, earningTrust, windowOverspendFraction);
    }

    /**
     * The same decision with {@code explored} moved to the front as the chosen candidate (made eligible when it
     * was rejected only for quality), the other eligible candidates after it as failover.
     */
    public Selection exploring(CandidateEvaluation explored, String why) {
        List<CandidateEvaluation> reordered = new ArrayList<>(candidates.size());
        reordered.add(explored.eligibleCopy(1));
        int rank = 2;
        int eligible = 1;
        for (CandidateEvaluation c : candidates) {
            if (c == explored) {
                continue;
            }
            if (c.eligible()) {
                reordered.add(c.rankedCopy(rank++));
                eligible++;
            }
        }
        for (CandidateEvaluation c : candidates) {
            if (c != explored && !c.eligible()) {
                reordered.add(c);
            }
        }
        return new Selection(workerType, reordered, eligible, qualityTarget, why + "; otherwise " + explanation,
                Failure.NONE, policy, true, budgetDowngrade, null, 0, earningTrust, windowOverspendFraction);
    }

    /**
     * The same decision after the exploration budget: the candidates in {@code dropped} (already rejected with their
     * reason) leave the eligible list, {@code lead} (when not null) is moved to the front, and the explanation
     * starts with {@code why}.
     */
    public Selection budgeted(List<CandidateEvaluation> dropped, CandidateEvaluation lead, String why,
                              boolean leadEarnsTrust, double overspendFraction) {
        List<CandidateEvaluation> reordered = new ArrayList<>(candidates.size());
        int eligible = 0;
        if (lead != null) {
            reordered.add(lead.eligibleCopy(1));
            eligible = 1;
        }
        for (CandidateEvaluation c : candidates) {
            if (c != lead && c.eligible() && !dropped.contains(c)) {
                reordered.add(c.rankedCopy(++eligible));
            }
        }
        for (CandidateEvaluation c : candidates) {
            if (c != lead && (!c.eligible() || dropped.contains(c))) {
                reordered.add(c);
            }
        }
        boolean sameLead = eligible > 0 && !candidates.isEmpty()
                && reordered.getFirst().backend().key().equals(candidates.getFirst().backend().key());
        // the ranking's explanation names its first candidate: when the budget moved the step elsewhere, say where
        String ranking = eligible > 0 && !candidates.isEmpty() && !sameLead
                ? SelectionExplanation.afterBudget(workerType,
                reordered.toArray(CandidateEvaluation[]::new), eligible) : explanation;
        // an exploration moved elsewhere by the budget explores nothing: the candidate it would have explored no
        // longer leads (and the exploration's explanation, replaced by the ranking after the budget, is gone)
        return new Selection(workerType, reordered, eligible, qualityTarget,
                why == null || why.isEmpty() ? ranking : why + "; " + ranking,
                eligible > 0 ? Failure.NONE : Failure.NO_CANDIDATE, policy, exploration && sameLead, budgetDowngrade,
                bindingBudget, retryAfterNanos, leadEarnsTrust, overspendFraction);
    }
}
