package dev.tandem.router.selection;

import java.util.List;

import dev.tandem.router.budget.Budget;

/**
 * A selection in words, as the decision trace and error messages show it: what was chosen and by which rule (or why
 * nothing could be), its expected cost as a sum, and the rejected candidates with the rule that rejected each.
 * Amounts are formatted by hand: {@code String.format} costs more than a whole decision on the hot path.
 */
final class SelectionExplanation {

    private SelectionExplanation() {
    }

    static String explain(String workerType, CandidateEvaluation[] ordered, int eligible, double target,
                          boolean anyMeetsQuality, Selection.Failure failure, boolean downgraded,
                          CandidateEvaluation preferred, List<Budget> budgets, Budget binding) {
        StringBuilder sb = new StringBuilder(512);
        if (eligible == 0) {
            sb.append("no candidate for worker type '").append(workerType).append("'");
            if (ordered.length == 0) {
                return sb.append(": the catalog has no (model, pool) pair").toString();
            }
            switch (failure) {
                case ALL_POOLS_FULL -> sb.append(": every qualifying pool is full");
                case ALL_RATE_LIMITED -> sb.append(": every qualifying backend is rate limited");
                case ALL_CIRCUITS_OPEN -> sb.append(": every qualifying backend's circuit is open");
                case BUDGET_EXCEEDED -> sb.append(": none fits the ").append(binding.describe())
                        .append("; the cheapest qualifying is estimated at ")
                        .append(usd(cheapestOverBudget(ordered)));
                default -> {
                }
            }
            sb.append(" (");
            appendRejections(sb, ordered, 0);
            return sb.append(')').toString();
        }
        CandidateEvaluation best = ordered[0];
        sb.append("chose ").append(best.backend().key()).append(" for '").append(workerType).append("': ");
        if (downgraded) {
            sb.append("cheapest of ").append(eligible).append(" qualifying within budget, because the preferred ")
                    .append(preferred.backend().key()).append(" (est. ").append(usd(preferred.estimatedCostUsd))
                    .append(") exceeds the ").append(firstExceeded(budgets, preferred.estimatedCostUsd).describe());
        } else if (anyMeetsQuality) {
            sb.append("cheapest of ").append(eligible).append(" eligible meeting quality ").append(fmt2(target));
        } else {
            sb.append("best quality of ").append(eligible).append(" eligible, none meeting quality ")
                    .append(fmt2(target));
        }
        appendDetails(sb, best);
        if (eligible < ordered.length) {
            sb.append("; ").append(ordered.length - eligible).append(" rejected: ");
            appendRejections(sb, ordered, eligible);
        }
        return sb.toString();
    }

    /**
     * The choice once the exploration budget changed it (held the chosen candidate back, or put a stream earning
     * trust first): the explanation of the ranking would name a candidate that does not get the step.
     */
    static String afterBudget(String workerType, CandidateEvaluation[] ordered, int eligible) {
        StringBuilder sb = new StringBuilder(512);
        CandidateEvaluation best = ordered[0];
        sb.append("chose ").append(best.backend().key()).append(" for '").append(workerType).append("': first of ")
                .append(eligible).append(" eligible that the exploration budget allows");
        appendDetails(sb, best);
        if (eligible < ordered.length) {
            sb.append("; ").append(ordered.length - eligible).append(" rejected: ");
            appendRejections(sb, ordered, eligible);
        }
        return sb.toString();
    }

    /** " (quality, est., expected, p95, load)" of the chosen candidate. */
    private static void appendDetails(StringBuilder sb, CandidateEvaluation best) {
        sb.append(" (quality ").append(fmt2(best.quality)).append(' ').append(best.qualityEstimate.source().label());
        if (best.qualityEstimate.samples() > 0) {
            sb.append(" n=").append(best.qualityEstimate.samples());
        }
        sb.append(", est. ").append(usd(best.estimatedCostUsd));
        if (best.batchPrice) {
            sb.append(" at batch price");
        }
        if (best.expectedCostUsd != best.estimatedCostUsd || best.reviewProbability > 0) {
            appendExpected(sb, best);
        }
        sb.append(", p95 ").append(best.p95Millis > 0 ? Math.round(best.p95Millis) + " ms" : "unknown");
        sb.append(", load ").append(best.inFlight).append('/').append(best.capacity()).append(')');
    }

    /** "expected $x = exec + 100 % x review $r + 23 % x escalation $e (stream probation)". */
    static void appendExpected(StringBuilder sb, CandidateEvaluation c) {
        sb.append(", expected ").append(usd(c.expectedCostUsd)).append(" = exec ").append(usd(c.estimatedCostUsd))
                .append(" + ").append(fixed(100 * c.reviewProbability, 10, 1)).append(" % x review ")
                .append(usd(c.reviewCostUsd)).append(" + ").append(fixed(100 * c.rejectProbability, 10, 1))
                .append(" % x escalation ").append(usd(c.escalationCostUsd)).append(" (stream ")
                .append(c.trustState()).append("; oracle direct ").append(usd(c.oracleCostUsd)).append(')');
    }

    static Budget firstExceeded(List<Budget> budgets, double estimate) {
        for (Budget b : budgets) {
            if (!b.fits(estimate)) {
                return b;
            }
        }
        return budgets.get(0);
    }

    private static double cheapestOverBudget(CandidateEvaluation[] ordered) {
        double cheapest = Double.MAX_VALUE;
        for (CandidateEvaluation e : ordered) {
            if (e.rejectionKind == RejectionKind.BUDGET) {
                cheapest = Math.min(cheapest, e.estimatedCostUsd);
            }
        }
        return cheapest;
    }

    private static void appendRejections(StringBuilder sb, CandidateEvaluation[] ordered, int from) {
        int shown = 0;
        for (int i = from; i < ordered.length && shown < 5; i++, shown++) {
            if (shown > 0) {
                sb.append("; ");
            }
            sb.append(ordered[i].backend().key()).append(": ").append(ordered[i].rejection());
        }
        if (ordered.length - from > shown) {
            sb.append("; and ").append(ordered.length - from - shown).append(" more");
        }
    }

    /** Two decimals, without String.format (it costs more than a whole decision). */
    static String fmt2(double v) {
        return fixed(v, 100, 2);
    }

    /** Dollars with six decimals. */
    static String usd(double v) {
        return "$" + fixed(v, 1_000_000, 6);
    }

    private static String fixed(double v, long scale, int digits) {
        long r = Math.round(Math.abs(v) * scale);
        String frac = Long.toString(r % scale);
        StringBuilder sb = new StringBuilder(digits + 8);
        if (v < 0 && r != 0) {
            sb.append('-');
        }
        sb.append(r / scale).append('.');
        for (int i = frac.length(); i < digits; i++) {
            sb.append('0');
        }
        return sb.append(frac).toString();
    }
}
