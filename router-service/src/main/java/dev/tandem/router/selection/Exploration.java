package dev.tandem.router.selection;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.router.budget.Budget;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.QualityBoard;

/**
 * Bounded exploration: a model with too few audit verdicts for a worker type (fewer than
 * {@code quality.min-samples}) gets a share of that worker type's dispatches even when selection would not choose
 * it, so its quality becomes measured. The share is a hard bound, not a probability: every dispatch adds
 * {@code exploration.rate} to the worker type's credit, an exploration spends one whole credit, and the credit
 * never exceeds one, so explorations never exceed rate x dispatches + 1 and never come in bursts. Only candidates
 * that meet every hard requirement, the latency target and the budgets are explored (a candidate rejected only for
 * quality qualifies), and only when they could become the choice: cheaper than the chosen one, or any while the
 * chosen one misses the quality target. The rest of the ranking stays behind it as failover, and the cascade still
 * checks its output.
 */
@ApplicationScoped
public class Exploration {

    private final Map<String, double[]> credit = new ConcurrentHashMap<>();
    private final double rate;
    private final QualityBoard board;

    @Inject
    public Exploration(RouterConfig config, QualityBoard board) {
        this(config.exploration().rate(), board);
    }

    public Exploration(double rate, QualityBoard board) {
        this.rate = Math.max(0, Math.min(1, rate));
        this.board = board;
    }

    public double rate() {
        return rate;
    }

    /**
     * The selection to dispatch: {@code selection} itself, or a copy that leads with an under-explored candidate
     * when this dispatch is the worker type's turn to explore.
     */
    public Selection apply(Selection selection, SelectionRequest request) {
        if (rate <= 0 || !selection.chosen() || selection.budgetDowngrade()) {
            return selection;
        }
        double[] c = credit.computeIfAbsent(selection.workerType(), k -> new double[1]);
        CandidateEvaluation pick;
        synchronized (c) {
            c[0] = Math.min(1, c[0] + rate);
            if (c[0] < 1 - 1e-9) {
                return selection;
            }
            pick = candidate(selection, request);
            if (pick == null) {
                return selection;
            }
            c[0] = Math.max(0, c[0] - 1);
        }
        double verdicts = board.verdicts(selection.workerType(), pick.backend().model().id());
        String why = String.format(Locale.ROOT, "exploration: chose %s, which has %.0f of the %d audit verdicts "
                        + "needed for '%s' (exploration share %.0f%%)", pick.backend().key(), verdicts,
                board.minSamples(), selection.workerType(), rate * 100);
        return selection.exploring(pick, why);
    }

    /** The under-explored candidate with the fewest verdicts (then the cheapest), not already the first choice. */
    private CandidateEvaluation candidate(Selection selection, SelectionRequest request) {
        CandidateEvaluation best = selection.best();
        CandidateEvaluation pick = null;
        double pickVerdicts = Double.MAX_VALUE;
        for (CandidateEvaluation c : selection.candidates()) {
            if (c == best || c.backend().model().id().equals(best.backend().model().id())) {
                continue;
            }
            if (!c.eligible() && c.rejectionKind() != RejectionKind.QUALITY) {
                continue;
            }
            if (c.qualityEstimate().source() == QualityEstimate.Source.SUSPENDED) {
                continue;
            }
            // a dearer model can only ever be chosen while the choice misses the quality target: not worth exploring
            if (best.quality() >= selection.qualityTarget() && c.estimatedCostUsd() >= best.estimatedCostUsd()) {
                continue;
            }
            double verdicts = board.verdicts(selection.workerType(), c.backend().model().id());
            if (verdicts >= board.minSamples() || !fitsBudgets(request, c.estimatedCostUsd())) {
                continue;
            }
            if (pick == null || verdicts < pickVerdicts
                    || (verdicts == pickVerdicts && c.estimatedCostUsd() < pick.estimatedCostUsd())) {
                pick = c;
                pickVerdicts = verdicts;
            }
        }
        return pick;
    }

    private static boolean fitsBudgets(SelectionRequest request, double estimate) {
        for (Budget b : request.budgets()) {
            if (!b.fits(estimate)) {
                return false;
            }
        }
        return true;
    }
}
