package dev.tandem.router.selection;

import static dev.tandem.router.selection.SelectionExplanation.fmt2;
import static dev.tandem.router.selection.SelectionExplanation.usd;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.router.budget.ExplorationBudget;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.StreamOutlooks;

/**
 * Routing at a guaranteed cost: after selection ranked the candidates on their expected total cost (execution,
 * expected reviews and escalations; {@link RouteSelector}), this decides which of them the exploration budget
 * allows, and when a stream still earning trust gets the step.
 * <ol>
 * <li>A candidate other than the oracle tier is allowed only while its worst case (execution, a review, an
 * escalation) over the oracle's direct price fits the budget's headroom ({@link ExplorationBudget}); otherwise it is
 * rejected as over the exploration budget, so the step goes to the next allowed candidate, at worst the oracle.</li>
 * <li>When the choice is not a stream earning trust, the allowed stream still earning trust (probation, tightened,
 * or trusted but still building up: its blocking sample above its sampling rate)
 * with the lowest projected steady-state cost leads instead, provided that cost, execution + projected review share
 * x review + reject probability x escalation, is under the current choice's expected cost: it is worth earning. Until
 * the projection rests on {@code retire-after-samples} reviewed outputs, the stream's execution price stands in for
 * it. Every such step is charged to the budget, which bounds how many there are.</li>
 * <li>A stream whose projection rests on at least {@code retire-after-samples} reviewed outputs and does not beat
 * the oracle is retired from exploration for a back-off that doubles with each retirement (up to
 * {@code retire-for-max}); a trusted stream is always priced by its expected cost and needs no retirement.</li>
 * <li>Before its own projection rests on that many, a stream whose backend was onboarded is projected from the
 * onboarding evidence the audit service publishes (the golden set's error rate, discounted, combined with the
 * production reviews so far; dropped by the audit once production contradicts it), provided the evidence's weight
 * and those reviews together reach {@code retire-after-samples}: before any calibration shows that the worker's
 * confidence separates its errors, the audit projects every output reviewed while θ is above the probation
 * clearance's trust target, else the blocking share 1 − A/θ once trusted, plus sampling. A stream that
 * cannot pay off on that projection is retired before its first exploration step. A cost decision only: clean
 * evidence never makes a stream cheaper than its own projection, nor certifies anything.</li>
 * </ol>
 * Without an eligible oracle-tier candidate there is nothing to fall back to, and the selection stands as ranked.
 */
@ApplicationScoped
public class TrustEarning {

    /** A stream retired from exploration until a time, why, and the back-off its next retirement gets. */
    record Retirement(long untilNanos, long nextBackoffNanos, String reason) {
    }

    private final ExplorationBudget budget;
    private final int retireAfterSamples;
    private final long retireForNanos;
    private final long retireForMaxNanos;
    private final LongSupplier clock;
    private final Map<String, Retirement> retirements = new ConcurrentHashMap<>();

    @Inject
    public TrustEarning(RouterConfig config) {
        this(new ExplorationBudget(config.explorationBudget().share(), config.explorationBudget().windowSteps(),
                        config.explorationBudget().settleAfter().toNanos(), config.explorationBudget().trustedRisk(),
                        config.explorationBudget().ceilingShare(), System::nanoTime),
                config.explorationBudget().retireAfterSamples(), config.explorationBudget().retireFor().toNanos(),
                config.explorationBudget().retireForMax().toNanos(), System::nanoTime);
    }

    public TrustEarning(ExplorationBudget budget, int retireAfterSamples, long retireForNanos, long retireForMaxNanos,
                        LongSupplier clock) {
        this.budget = budget;
        this.retireAfterSamples = retireAfterSamples;
        this.retireForNanos = retireForNanos;
        this.retireForMaxNanos = retireForMaxNanos;
        this.clock = clock;
    }

    public ExplorationBudget budget() {
        return budget;
    }

    /** The selection the exploration budget allows, with the stream earning trust leading when it is worth it. */
    public Selection apply(Selection selection, SelectionRequest request) {
        return apply(selection, request, true);
    }

    /**
     * What {@link #apply} would decide, for a dry run: the same selection and reasons, but a stream it would retire
     * is not recorded as retired, so asking does not start (or double) a back-off that no dispatch caused.
     */
    public Selection preview(Selection selection, SelectionRequest request) {
        return apply(selection, request, false);
    }

    private Selection apply(Selection selection, SelectionRequest request, boolean record) {
        if (!selection.chosen()) {
            return selection;
        }
        CandidateEvaluation oracle = null;
        for (CandidateEvaluation c : selection.eligible()) {
            if (c.oracleDirect()) {
                oracle = c;
                break;
            }
        }
        if (oracle == null) {
            return selection;
        }
        String workerType = selection.workerType();
        String tenant = request.tenant();
        double oracleUsd = oracle.estimatedCostUsd();
        double headroom = budget.headroom(workerType, tenant, oracleUsd, null).usd();
        double overspend = budget.overspendFraction(workerType, tenant);
        long now = clock.getAsLong();

        List<CandidateEvaluation> dropped = new ArrayList<>();
        CandidateEvaluation earning = null;
        double earningProjected = Double.MAX_VALUE;
        String pooledNote = null;
        CandidateEvaluation pooledNoteFor = null;
        for (CandidateEvaluation c : selection.eligible()) {
            if (c.oracleDirect()) {
                continue;
            }
            Retirement r = retirements.get(retirementKey(workerType, tenant, c));
            if (r != null && now < r.untilNanos() && c.outlook().earningTrust()) {
                c.reject(RejectionKind.RETIRED, "retired from exploration for another "
                        + Math.max(1, (r.untilNanos() - now) / 60_000_000_000L) + " min: " + r.reason());
                dropped.add(c);
                continue;
            }
            ExplorationBudget.Risk risk = pooledRisk(c);
            if (risk != null) {
                // a trusted stream: its review and escalation join the pool of trusted steps in flight
                ExplorationBudget.Headroom h = budget.headroom(workerType, tenant, oracleUsd, risk);
                double execution = c.estimatedCostUsd() - c.oracleCostUsd();
                if (execution > h.usd()) {
                    c.reject(RejectionKind.EXPLORATION_BUDGET, heldBack(h, execution, overspend));
                    dropped.add(c);
                    continue;
                }
                if (pooledNote == null && h.trustedInFlight() > 1) {
                    pooledNote = admittedNote(c, h);
                    pooledNoteFor = c;
                }
                continue;
            }
            // a stream that cannot pay off is retired whether or not the budget could fund its step now, so that
            // every decision names the reason it is not explored
            double projected = c.estimatedCostUsd();
            if (c.outlook().earningTrust()) {
                // until its projection rests on enough reviewed outputs (its own, or its onboarding evidence with
                // them) a stream is given the benefit of the doubt
                boolean projectable = c.outlook().projectionSamples() >= retireAfterSamples;
                StreamOutlooks.Onboarding onboarding = projectable ? null : onboardingEvidence(c);
                projected = projectable ? projectedUsd(c)
                        : onboarding != null ? onboardedUsd(c, onboarding) : c.estimatedCostUsd();
                if ((projectable || onboarding != null) && projected >= c.oracleCostUsd()) {
                    String reason = projectable ? "projected steady-state cost " + usd(projected) + " (review share "
                            + fmt2(100 * c.outlook().projectedReviewProbability()) + " % from "
                            + c.outlook().projectionSamples() + " reviewed outputs) does not beat the oracle's "
                            + usd(c.oracleCostUsd())
                            : onboardingReason(onboarding, projected, c.oracleCostUsd());
                    if (record) {
                        retire(workerType, tenant, c, now, reason);
                    }
                    c.reject(RejectionKind.RETIRED, "retired from exploration: " + reason);
                    dropped.add(c);
                    continue;
                }
            }
            double worst = c.worstOverspendUsd();
            if (worst > headroom) {
                c.reject(RejectionKind.EXPLORATION_BUDGET, "worst case " + usd(worst)
                        + " over oracle-direct exceeds the exploration budget's headroom "
                        + usd(Math.max(0, headroom)) + " (window of " + budget.windowSteps()
                        + " steps at " + fmt2(100 * overspend) + " % over all-oracle, limit "
                        + fmt2(100 * budget.share()) + " %)");
                dropped.add(c);
                continue;
            }
            if (c.outlook().earningTrust() && projected < earningProjected) {
                earning = c;
                earningProjected = projected;
            }
        }
        CandidateEvaluation first = null;
        for (CandidateEvaluation c : selection.eligible()) {
            if (!dropped.contains(c)) {
                first = c;
                break;
            }
        }
        CandidateEvaluation lead = null;
        // the first one's reason: why the budget held the step back from the stream it would have gone to
        String why = dropped.isEmpty() ? "" : "exploration budget: " + dropped.size() + " candidate(s) held back ("
                + dropped.get(0).backend().key() + ": " + dropped.get(0).rejection() + ")";
        // worth earning: it would beat the current choice once trusted
        if (earning != null && first != null && first != earning && !first.outlook().earningTrust()
                && earningProjected < first.expectedCostUsd()) {
            lead = earning;
            why = "earning trust: chose " + earning.backend().key() + " (stream " + earning.trustState()
                    + (earning.outlook().buildingUp() ? String.format(Locale.ROOT, ", %.0f %% of outputs "
                    + "reviewed blocking until production evidence bounds its error rate", 100
                    * earning.outlook().blockingProbability()) : ", every output reviewed") + ") at expected "
                    + usd(earning.expectedCostUsd())
                    + " over oracle-direct " + usd(oracleUsd) + ", charged to the exploration budget ("
                    + fmt2(100 * overspend) + " % of the window's all-oracle cost spent over it, limit "
                    + fmt2(100 * budget.share()) + " %); projected steady-state cost "
                    + (earning.outlook().projectionSamples() >= retireAfterSamples ? usd(earningProjected)
                    : onboardingEvidence(earning) != null ? usd(earningProjected) + " from its "
                    + describe(onboardingEvidence(earning))
                    : "not projected yet (" + earning.outlook().projectionSamples() + " of " + retireAfterSamples
                    + " reviewed outputs)");
        }
        CandidateEvaluation chosen = lead != null ? lead : first;
        // why the budget admitted a trusted step while others are in flight: said after the choice, which leads
        String admittedNote = pooledNote != null && chosen != null
                && chosen.backend().key().equals(pooledNoteFor.backend().key()) ? "; " + pooledNote : "";
        if (dropped.isEmpty() && lead == null) {
            boolean earns = selection.best().outlook().earningTrust() && !selection.best().oracleDirect();
            String explanation = selection.explanation() + admittedNote;
            return earns || overspend != 0 || !admittedNote.isEmpty() ? new Selection(selection.workerType(),
                    selection.candidates(), selection.eligibleCount(), selection.qualityTarget(), explanation,
                    selection.failure(),
                    selection.policy(), selection.exploration(), selection.budgetDowngrade(),
                    selection.bindingBudget(), selection.retryAfterNanos(), earns, overspend) : selection;
        }
        boolean earns = chosen != null && !chosen.oracleDirect() && chosen.outlook().earningTrust();
        Selection budgeted = selection.budgeted(dropped, lead, why, earns, overspend);
        return admittedNote.isEmpty() ? budgeted : budgeted.withExplanationSuffix(admittedNote);
    }

    /**
     * Records a step routed to {@code chosen} before it runs: the most it can cost (execution, and a review and an
     * escalation when they can happen) is reserved in its window. Call under {@link ExplorationBudget#lock} together
     * with {@link #apply}.
     */
    public void admitted(String workerType, String tenant, String stepKey, CandidateEvaluation chosen) {
        double baseline = chosen.oracleCostUsd() > 0 ? chosen.oracleCostUsd() : chosen.estimatedCostUsd();
        budget.admitted(workerType, tenant, stepKey, baseline, chosen.estimatedCostUsd() + reserve(chosen),
                pooledRisk(chosen));
    }

    /**
     * Records a step's finished dispatch: its cost and oracle baseline, and a reservation for the worst review and
     * escalation the executing candidate can still cause.
     */
    public void executed(String workerType, String tenant, String stepKey, CandidateEvaluation executed,
                         double baselineUsd, double costUsd) {
        budget.executed(workerType, tenant, stepKey, baselineUsd, costUsd, executed == null ? 0 : reserve(executed),
                executed == null ? null : pooledRisk(executed));
    }

    /**
     * The risk of a trusted stream's step, pooled with the other trusted steps in flight; null for a stream earning
     * trust (probation, tightened, building up) or the oracle tier, held at its worst case, or when pooling is off.
     */
    ExplorationBudget.Risk pooledRisk(CandidateEvaluation c) {
        if (!budget.pools() || c.oracleDirect() || c.outlook().earningTrust()) {
            return null;
        }
        return new ExplorationBudget.Risk(c.reviewProbability(), c.reviewWorstUsd(), c.rejectProbability(),
                c.escalationCostUsd());
    }

    private String heldBack(ExplorationBudget.Headroom h, double execution, double overspend) {
        if (h.ceilingBinding()) {
            return "trusted stream held back by the exploration budget's ceiling: the worst case of the window's "
                    + h.trustedInFlight() + " trusted step(s) in flight with this one, "
                    + SelectionExplanation.usd(h.worstUsd()) + " (each reviewed and escalated), would take a window over "
                    + SelectionExplanation.fmt2(100 * budget.ceilingShare()) + " % over all-oracle";
        }
        return "trusted stream held back by the exploration budget: its review and escalation pooled with the "
                + "window's " + (h.trustedInFlight() - 1) + " other trusted step(s) in flight, held at "
                + SelectionExplanation.usd(h.pooledUsd()) + " (at most " + h.reviewsBound() + " reviewed and "
                + h.rejectsBound() + " escalated with probability " + SelectionExplanation.fmt2(100 * (1 - budget.risk()))
                + " %), leave " + SelectionExplanation.usd(h.usd()) + " for its execution " + SelectionExplanation.usd(execution)
                + " over oracle-direct (window of " + budget.windowSteps() + " steps at "
                + SelectionExplanation.fmt2(100 * overspend) + " % over all-oracle, limit "
                + SelectionExplanation.fmt2(100 * budget.share()) + " %)";
    }

    private String admittedNote(CandidateEvaluation c, ExplorationBudget.Headroom h) {
        return "exploration budget: trusted stream " + c.backend().key() + " pooled with the window's "
                + (h.trustedInFlight() - 1) + " other trusted step(s) in flight, their reviews and escalations held "
                + "at " + SelectionExplanation.usd(h.pooledUsd()) + " (at most " + h.reviewsBound() + " reviewed and "
                + h.rejectsBound() + " escalated with probability " + SelectionExplanation.fmt2(100 * (1 - budget.risk()))
                + " %; worst case " + SelectionExplanation.usd(h.worstUsd()) + ")";
    }

    private static double reserve(CandidateEvaluation c) {
        return c.oracleDirect() ? 0 : (c.reviewProbability() > 0 ? c.reviewWorstUsd() : 0)
                + (c.rejectProbability() > 0 ? c.escalationCostUsd() : 0);
    }

    /**
     * Projected steady-state cost of a stream once trusted: its reviews at the projected share, and escalations for
     * the errors the reviews catch, all but the outgoing ones the target lets through: P(reject) = min(projected
     * review share, max(0, error rate − target)).
     */
    static double projectedUsd(CandidateEvaluation c) {
        StreamOutlooks.Outlook o = c.outlook();
        double review = o.projectedReviewProbability();
        double reject = Math.min(review, Math.max(0, c.rejectProbability() - o.targetErrorRate()));
        return c.estimatedCostUsd() + review * c.reviewCostUsd() + reject * c.escalationCostUsd();
    }

    /**
     * The stream's onboarding evidence when it may project the stream: the audit service still applies it, and its
     * weight with the production reviews combined reaches {@code retire-after-samples}; null otherwise.
     */
    private StreamOutlooks.Onboarding onboardingEvidence(CandidateEvaluation c) {
        StreamOutlooks.Onboarding o = c.outlook().onboarding();
        return o != null && o.evidence() >= retireAfterSamples ? o : null;
    }

    /**
     * Projected steady-state cost on the onboarding evidence: reviews at the share the evidence's error rate needs
     * at A, and escalations for the errors they catch, all but the A let through.
     */
    static double onboardedUsd(CandidateEvaluation c, StreamOutlooks.Onboarding o) {
        double review = o.projectedReviewProbability();
        double reject = Math.min(review, Math.max(0, o.errorRate() - o.targetErrorRate()));
        return c.estimatedCostUsd() + review * c.reviewCostUsd() + reject * c.escalationCostUsd();
    }

    private static String describe(StreamOutlooks.Onboarding o) {
        return String.format(Locale.ROOT, "onboarding %s %.1f %% wrong (n=%d, counted as %.0f reviews%s%s)",
                o.source().replace('-', ' '), 100.0 * o.rejected() / Math.max(1, o.items()), o.items(), o.weight(),
                o.productionReviewed() == 0 ? "; no production reviews yet" : String.format(Locale.ROOT,
                        "; with %d of %d production reviews rejected: %.1f %%", o.productionRejected(),
                        o.productionReviewed(), 100 * o.errorRate()),
                o.thresholdPassShare() > 0 ? String.format(Locale.ROOT, "; its confidences: a threshold at %.3f "
                        + "passes %.1f %% of the items", o.threshold(), 100 * o.thresholdPassShare()) : "");
    }

    private static String onboardingReason(StreamOutlooks.Onboarding o, double projected, double oracleUsd) {
        return describe(o) + String.format(Locale.ROOT, " ⇒ review share %.1f %% at A = %.2f %%", 100
                * o.projectedReviewProbability(), 100 * o.targetErrorRate()) + " ⇒ steady-state cost "
                + usd(projected) + " ≥ oracle " + usd(oracleUsd) + " (a cost decision: the evidence certifies nothing)";
    }

    private void retire(String workerType, String tenant, CandidateEvaluation c, long now, String reason) {
        retirements.compute(retirementKey(workerType, tenant, c), (k, old) -> {
            long backoff = old == null ? retireForNanos : old.nextBackoffNanos();
            return new Retirement(now + backoff, Math.min(retireForMaxNanos, 2 * backoff), reason);
        });
    }

    /** True while the stream is retired from exploration (tests, admin view). */
    public boolean retired(String workerType, String tenant, String modelId) {
        Retirement r = retirements.get(workerType + '\n' + (tenant == null ? "" : tenant) + '\n' + modelId);
        return r != null && clock.getAsLong() < r.untilNanos();
    }

    private static String retirementKey(String workerType, String tenant, CandidateEvaluation c) {
        return workerType + '\n' + (tenant == null ? "" : tenant) + '\n' + c.backend().model().id();
    }
}
