package dev.tandem.router.selection;

import java.util.Arrays;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.router.budget.Budget;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.learning.LiveView;
import dev.tandem.router.learning.StreamOutlooks;

/**
 * The default routing policy. Ranks every (model, pool) candidate for a step: hard requirements (model excluded,
 * worker type, capabilities, context window, tier, residency), then live state (circuit open, rate limited, pool
 * full), then the latency target against the measured p95, then the measured quality for the worker type against
 * its target, then the estimated cost; ties go to the less loaded pool. Finally the budgets: when the preferred
 * candidate's estimate exceeds one, the cheapest qualifying candidate within every budget leads instead, and when
 * none fits the selection fails naming the budget.
 * <p>
 * <p>
 * Cost is the <em>expected total</em>: the execution estimate plus what the audit will make the step cost, P(review) x
 * the oracle's review price + P(reject) x the escalation price, from the candidate's audit stream (its trust state,
 * threshold and sampling rate; {@link StreamOutlooks}). The oracle tier is never reviewed, so "oracle direct" is
 * priced at its execution estimate and wins whenever a cheaper model's reviews would cost more than they save. A
 * trusted stream certified for a looser outgoing error than the step allows is not eligible.
 * <p>
 * A BATCH-class step ({@link SelectionRequest#batch()}) prices every model that offers a batch path at its batch
 * prices (the worker sends the call through the provider's batch API), so those models win on cost; its reviews and
 * escalations, and oracle direct, at the oracle's batch prices when the oracle offers a batch path.
 * <p>
 * Pure and allocation-light: it runs on every dispatch (issue 4 wants p99 under 20 µs with 50 models), so it
 * uses plain loops and an insertion sort over a small array instead of streams and comparators; that, and the rules
 * being one ranking pass over one array, is why it is a little over the usual size. What a candidate is evaluated
 * on is {@link CandidateEvaluation}, the cost model {@link StreamOutlooks}.
 */
@ApplicationScoped
public class RouteSelector implements RoutingPolicy {

    public static final String NAME = "default";
    private static final double COST_EPSILON = 1e-12;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Selection select(SelectionRequest request, Catalog catalog, LiveView live) {
        String workerType = request.workerType();
        ServedBy servedBy = ServedBy.of(catalog, workerType);
        Backend[] backends = servedBy.serving();
        CandidateEvaluation[] notServing = servedBy.notServing();
        int n = backends.length;
        long inputTokens = request.estimatedInputTokens() > 0 ? request.estimatedInputTokens()
                : catalog.defaultInputTokens();
        long outputTokens = catalog.outputTokens(workerType);
        double target = request.minQuality() > 0 ? request.minQuality() : catalog.qualityTarget(workerType);
        ModelProfile oracle = catalog.oracleModelOrNull();
        boolean batch = request.batch();
        double oracleInteractiveUsd = oracle == null ? 0 : oracle.costUsd(inputTokens, outputTokens, 0);
        double oracleUsd = oracle == null ? 0 : oracle.costUsd(inputTokens, outputTokens, 0, batch);
        // reviews and escalations of a batch-class step run on the oracle's batch path too: the learned review
        // price (a ratio to the oracle's interactive price) scales by the oracle's batch discount
        double oracleScale = oracleInteractiveUsd > 0 ? oracleUsd / oracleInteractiveUsd : 1;
        double reviewUsd = oracleScale * live.reviewUsd(workerType, oracle, inputTokens, outputTokens);
        double reviewWorst = oracleScale * live.reviewWorstUsd(workerType, oracle, inputTokens, outputTokens);
        double escalationUsd = live.escalationUsd(workerType, oracleUsd);
        String tenant = request.tenant();

        CandidateEvaluation[] evaluations = new CandidateEvaluation[n];
        boolean anyMeetsQuality = false;
        for (int i = 0; i < n; i++) {
            Backend backend = backends[i];
            ModelProfile model = backend.model();
            WorkerPool pool = backend.pool();
            double cost = model.costUsd(inputTokens, outputTokens, 0, batch);
            if (pool.gpuPriced()) {
                double meanMillis = live.meanMillis(backend);
                cost += pool.gpuCostUsd(meanMillis > 0 ? meanMillis / 1000 : catalog.defaultGpuSeconds());
            }
            CandidateEvaluation e = new CandidateEvaluation(backend, live.p95Millis(backend), live.errorRate(backend),
                    live.quality(workerType, model), cost, live.inFlight(backend), live.rateLimitedForNanos(backend));
            evaluations[i] = e;
            e.batchPrice = batch && model.offersBatch();
            price(e, model, workerType, tenant, live, reviewUsd, reviewWorst, escalationUsd, oracleUsd);
            checkRequirements(request, model, pool, e, live);
            if (e.eligible() && e.quality >= target) {
                anyMeetsQuality = true;
            }
        }

        // Quality: when some candidate meets the target, the others drop out; when none does, the best
        // quality leads and the rest stay as failover, ordered by quality.
        if (anyMeetsQuality) {
            for (int i = 0; i < n; i++) {
                CandidateEvaluation e = evaluations[i];
                if (e.eligible() && e.quality < target) {
                    e.reject(RejectionKind.QUALITY, workerType, target, null);
                }
            }
        }
        CandidateEvaluation[] ordered = new CandidateEvaluation[n + notServing.length];
        int eligible = collectEligible(evaluations, ordered);
        sortEligible(ordered, eligible, !anyMeetsQuality);

        List<Budget> budgets = request.budgets();
        boolean downgraded = false;
        Budget binding = null;
        CandidateEvaluation preferred = eligible > 0 ? ordered[0] : null;
        if (!budgets.isEmpty() && eligible > 0) {
            if (fitsAll(budgets, preferred.estimatedCostUsd)) {
                // failover must not exceed the budget either
                for (int i = 1; i < eligible; i++) {
                    rejectIfOverBudget(ordered[i], budgets);
                }
            } else {
                // the cheapest qualifying candidate (quality aside) that fits every budget
                downgraded = true;
                for (int i = 0; i < n; i++) {
                    CandidateEvaluation e = evaluations[i];
                    if (e.eligible() || e.rejectionKind == RejectionKind.QUALITY) {
                        if (fitsAll(budgets, e.estimatedCostUsd)) {
                            e.clearRejection();
                        } else {
                            binding = rejectIfOverBudget(e, budgets);
                        }
                    }
                }
            }
            eligible = collectEligible(evaluations, ordered);
            sortEligible(ordered, eligible, false);
            if (eligible == 0) {
                binding = bindingBudget(evaluations, budgets);
            }
        }

        int next = eligible;
        for (int i = 0; i < n; i++) {
            if (!evaluations[i].eligible()) {
                ordered[next++] = evaluations[i];
            }
        }
        sortRejected(ordered, eligible, next);
        System.arraycopy(notServing, 0, ordered, next, notServing.length);
        for (int i = 0; i < eligible; i++) {
            ordered[i].rank = i + 1;
        }
        List<CandidateEvaluation> candidates = Arrays.asList(ordered);
        Selection.Failure failure = eligible > 0 ? Selection.Failure.NONE
                : binding != null ? Selection.Failure.BUDGET_EXCEEDED : failureOf(evaluations);
        long retryAfter = failure == Selection.Failure.ALL_RATE_LIMITED || failure == Selection.Failure.ALL_POOLS_FULL
                ? soonestRateLimitEnd(evaluations) : 0;
        String explanation = SelectionExplanation.explain(workerType, ordered, eligible, target, anyMeetsQuality,
                failure, downgraded, preferred, budgets, binding);
        Budget reported = failure == Selection.Failure.BUDGET_EXCEEDED ? binding
                : downgraded && eligible > 0 ? SelectionExplanation.firstExceeded(budgets, preferred.estimatedCostUsd)
                : null;
        return new Selection(workerType, candidates, eligible, target, explanation, failure, NAME, false,
                downgraded && eligible > 0, reported, retryAfter);
    }

    /** The candidate's expected reviews and escalations (none on the oracle tier: the oracle is not reviewed). */
    private static void price(CandidateEvaluation e, ModelProfile model, String workerType, String tenant,
                              LiveView live, double reviewUsd, double reviewWorst, double escalationUsd,
                              double oracleUsd) {
        if (model.tier() == ModelTier.ORACLE) {
            e.price(StreamOutlooks.Outlook.NOT_AUDITED, 0, 0, reviewUsd, reviewWorst, escalationUsd, oracleUsd);
            return;
        }
        StreamOutlooks.Outlook o = live.outlook(workerType, model.id(), tenant);
        // unmeasured streams: the quality estimate (a lower bound of the accept rate, or the prior) bounds the error
        double error = Double.isNaN(o.errorRate()) ? 1 - e.quality : o.errorRate();
        double reject = Math.min(o.blockingProbability(), Math.max(0, error));
        e.price(o, o.reviewProbability(), reject, reviewUsd, reviewWorst, escalationUsd, oracleUsd);
    }

    private static void checkRequirements(SelectionRequest request, ModelProfile model, WorkerPool pool,
                                          CandidateEvaluation e, LiveView live) {
        if (request.excludeModels().contains(model.id())) {
            e.reject(RejectionKind.EXCLUDED, null, 0, null);
            return;
        }
        List<String> capabilities = request.capabilities();
        for (int i = 0; i < capabilities.size(); i++) {
            if (!model.capabilities().contains(capabilities.get(i))) {
                e.reject(RejectionKind.CAPABILITY, capabilities.get(i), 0, null);
                return;
            }
        }
        if (request.minContextTokens() > model.contextTokens()) {
            e.reject(RejectionKind.CONTEXT_WINDOW, null, request.minContextTokens(), null);
            return;
        }
        if (!model.tier().atLeast(request.minTier())) {
            e.reject(RejectionKind.TIER, request.minTier().name(), 0, null);
            return;
        }
        List<String> tags = request.residencyTags();
        for (int i = 0; i < tags.size(); i++) {
            if (!model.residencyTags().contains(tags.get(i))) {
                e.reject(RejectionKind.RESIDENCY, tags.get(i), 0, null);
                return;
            }
        }
        if (live.circuitOpen(e.backend())) {
            e.reject(RejectionKind.CIRCUIT_OPEN, null, 0, null);
            return;
        }
        if (e.rateLimitedForNanos > 0) {
            e.reject(RejectionKind.RATE_LIMITED, null, 0, null);
            return;
        }
        if (e.inFlight >= pool.capacity()) {
            e.reject(RejectionKind.POOL_FULL, null, 0, null);
            return;
        }
        if (request.latencyTargetMs() > 0 && e.p95Millis > request.latencyTargetMs()) {
            e.reject(RejectionKind.LATENCY, null, request.latencyTargetMs(), null);
            return;
        }
        // a trusted stream passes outputs unreviewed at its own certified target: too loose for a stricter step
        StreamOutlooks.Outlook o = e.outlook;
        if (request.maxErrorRate() > 0 && o.trusted() && o.targetErrorRate() > request.maxErrorRate()) {
            e.reject(RejectionKind.ERROR_TARGET, null, request.maxErrorRate(), null);
        }
    }

    private static int collectEligible(CandidateEvaluation[] evaluations, CandidateEvaluation[] into) {
        int count = 0;
        for (CandidateEvaluation e : evaluations) {
            if (e.eligible()) {
                into[count++] = e;
            }
        }
        return count;
    }

    private static boolean fitsAll(List<Budget> budgets, double estimate) {
        for (int i = 0; i < budgets.size(); i++) {
            if (!budgets.get(i).fits(estimate)) {
                return false;
            }
        }
        return true;
    }

    /** Rejects the candidate when it exceeds a budget; returns that budget, else null. */
    private static Budget rejectIfOverBudget(CandidateEvaluation e, List<Budget> budgets) {
        for (int i = 0; i < budgets.size(); i++) {
            Budget b = budgets.get(i);
            if (!b.fits(e.estimatedCostUsd)) {
                e.reject(RejectionKind.BUDGET, null, 0, b);
                return b;
            }
        }
        return null;
    }

    /** The budget the cheapest budget-rejected candidate exceeds: the one to name when nothing fits. */
    private static Budget bindingBudget(CandidateEvaluation[] evaluations, List<Budget> budgets) {
        CandidateEvaluation cheapest = null;
        for (CandidateEvaluation e : evaluations) {
            if (e.rejectionKind == RejectionKind.BUDGET
                    && (cheapest == null || e.estimatedCostUsd < cheapest.estimatedCostUsd)) {
                cheapest = e;
            }
        }
        if (cheapest == null) {
            return null;
        }
        for (Budget b : budgets) {
            if (!b.fits(cheapest.estimatedCostUsd)) {
                return b;
            }
        }
        return null;
    }

    /** Insertion sort: the arrays are small and this avoids comparator and boxing allocations. */
    private static void sortEligible(CandidateEvaluation[] a, int length, boolean qualityFirst) {
        for (int i = 1; i < length; i++) {
            CandidateEvaluation x = a[i];
            int j = i - 1;
            while (j >= 0 && better(x, a[j], qualityFirst)) {
                a[j + 1] = a[j];
                j--;
            }
            a[j + 1] = x;
        }
    }

    /**
     * Rejected candidates that got further through the rules come first (a full pool says more than a model that
     * never served the worker type), so explanations and error messages lead with the binding constraint.
     */
    private static void sortRejected(CandidateEvaluation[] a, int from, int to) {
        // stable bucket sort by rule, latest rule first: linear in the number of rejected candidates
        RejectionKind[] kinds = RejectionKind.values();
        int[] counts = new int[kinds.length];
        for (int i = from; i < to; i++) {
            counts[a[i].rejectionKind.ordinal()]++;
        }
        int[] start = new int[kinds.length];
        int position = from;
        for (int k = kinds.length - 1; k >= 0; k--) {
            start[k] = position;
            position += counts[k];
        }
        CandidateEvaluation[] copy = Arrays.copyOfRange(a, from, to);
        for (CandidateEvaluation c : copy) {
            a[start[c.rejectionKind.ordinal()]++] = c;
        }
    }

    private static boolean better(CandidateEvaluation x, CandidateEvaluation y, boolean qualityFirst) {
        if (qualityFirst && x.quality != y.quality) {
            return x.quality > y.quality;
        }
        double costDiff = x.expectedCostUsd - y.expectedCostUsd;
        if (Math.abs(costDiff) > COST_EPSILON) {
            return costDiff < 0;
        }
        double loadX = x.load();
        double loadY = y.load();
        if (loadX != loadY) {
            return loadX < loadY;
        }
        return x.backend().key().compareTo(y.backend().key()) < 0;
    }

    private static Selection.Failure failureOf(CandidateEvaluation[] evaluations) {
        boolean full = false;
        boolean limited = false;
        boolean open = false;
        for (CandidateEvaluation e : evaluations) {
            full |= e.rejectionKind == RejectionKind.POOL_FULL;
            limited |= e.rejectionKind == RejectionKind.RATE_LIMITED;
            open |= e.rejectionKind == RejectionKind.CIRCUIT_OPEN;
        }
        return full ? Selection.Failure.ALL_POOLS_FULL
                : limited ? Selection.Failure.ALL_RATE_LIMITED
                : open ? Selection.Failure.ALL_CIRCUITS_OPEN : Selection.Failure.NO_CANDIDATE;
    }

    private static long soonestRateLimitEnd(CandidateEvaluation[] evaluations) {
        long soonest = 0;
        for (CandidateEvaluation e : evaluations) {
            if (e.rejectionKind == RejectionKind.RATE_LIMITED
                    && (soonest == 0 || e.rateLimitedForNanos < soonest)) {
                soonest = e.rateLimitedForNanos;
            }
        }
        return soonest;
    }
}
