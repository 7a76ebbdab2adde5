package dev.tandem.router.dispatch;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.BudgetStatus;
import dev.tandem.proto.router.v1.CascadeMode;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.router.budget.Budget;
import dev.tandem.router.budget.TenantBudgets;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.Calibrations;
import dev.tandem.router.learning.LiveState;
import dev.tandem.router.learning.ReviewPricing;
import dev.tandem.router.selection.CandidateEvaluation;
import dev.tandem.router.selection.Exploration;
import dev.tandem.router.selection.PromptPredictionPolicy;
import dev.tandem.router.selection.RouteSelector;
import dev.tandem.router.selection.RoutingPolicy;
import dev.tandem.router.selection.Selection;
import dev.tandem.router.selection.SelectionRequest;
import dev.tandem.router.selection.TrustEarning;
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import org.jboss.logging.Logger;

/**
 * Routes steps and reviews. A dispatch: select (policy, budgets, bounded exploration), execute with failover
 * ({@link Dispatcher}), calibrate the worker's confidence with the audit stream's map, and cascade: when the output
 * failed validation or its calibrated confidence is under the worker type's threshold, route again at the next more
 * capable tier (models already tried excluded, the budget less what was spent), up to the oracle. Every attempt is
 * priced and recorded; every decision is explained in the trace.
 */
@ApplicationScoped
public class RoutingService {

    private static final Logger LOG = Logger.getLogger(RoutingService.class);

    /** A successful dispatch with its routing and cost. */
    public record DispatchResult(ExecuteStepResponse result, Selection selection, List<Selection> cascadeSelections,
                                 List<Attempt> attempts, double costUsd, double oracleBaselineUsd, List<String> trace,
                                 BudgetStatus budget) {
    }

    /** A successful review with its routing and cost. */
    public record ReviewResult(ReviewStepResponse review, Selection selection, List<Attempt> attempts,
                               double costUsd) {
    }

    private final CatalogHolder catalogs;

    private final RouteSelector selector;

    private final PromptPredictionPolicy prediction;

    private final LiveState live;

    private final Dispatcher dispatcher;

    private final Calibrations calibrations;

    private final Exploration exploration;

    private final TrustEarning trustEarning;

    private final ReviewPricing reviewPricing;

    private final TenantBudgets tenants;

    private final RouterMetrics metrics;

    private final RouterConfig config;

    private final WorkerTypeDirectory workerTypes;

    public RoutingService(CatalogHolder catalogs, RouteSelector selector, PromptPredictionPolicy prediction,
            LiveState live, Dispatcher dispatcher, Calibrations calibrations, Exploration exploration,
            TrustEarning trustEarning, ReviewPricing reviewPricing, TenantBudgets tenants, RouterMetrics metrics,
            RouterConfig config, WorkerTypeDirectory workerTypes) {
        this.catalogs = catalogs;
        this.selector = selector;
        this.prediction = prediction;
        this.live = live;
        this.dispatcher = dispatcher;
        this.calibrations = calibrations;
        this.exploration = exploration;
        this.trustEarning = trustEarning;
        this.reviewPricing = reviewPricing;
        this.tenants = tenants;
        this.metrics = metrics;
        this.config = config;
        this.workerTypes = workerTypes;
    }

    /** The decision a dispatch would take now (no exploration, nothing reserved). */
    public Selection route(SelectionRequest request, String tenant) {
        SelectionRequest r = withTenantBudget(request, tenant).forTenant(tenant, request.maxErrorRate());
        return trustEarning.apply(policyFor(request.workerType()).select(r, catalogs.current(), live), r);
    }

    public Selection route(SelectionRequest request) {
        return route(request, "");
    }

    public DispatchResult dispatch(DispatchRequest request, Deadline callerDeadline) {
        Catalog catalog = catalogs.current();
        DispatchTrace trace = new DispatchTrace();
        String stepText = stepText(request.getInputsMap(), request.getInstructions());
        long inputTokens = catalog.estimateTokens(stepText.length());
        Deadline deadline = deadline(callerDeadline);
        SelectionRequest selectionRequest = withTenantBudget(toSelectionRequest(request.getWorkerType(),
                request.getRequirements(), Set.copyOf(request.getExcludeModelsList()), inputTokens)
                .withStepText(stepText), request.getTenant())
                .requiring(workerTypes.requiredCapabilities(request.getWorkerType(), deadline))
                .forTenant(request.getTenant(), request.getRequirements().getMaxErrorRate());
        boolean cascadeOn = request.getCascade() == CascadeMode.CASCADE_MODE_ON
                || (request.getCascade() != CascadeMode.CASCADE_MODE_OFF && config.cascade().enabled());

        String stepKey = stepKey(request.getTaskId(), request.getStepId());
        Selection explored = exploration.apply(selectOrFail(selectionRequest, catalog, trace, 0), selectionRequest);
        Selection selection;
        // the budget check and the step's reservation together: concurrent steps cannot spend the same headroom
        synchronized (trustEarning.budget().lock(request.getWorkerType(), request.getTenant())) {
            selection = trustEarning.apply(explored, selectionRequest);
            trustEarning.admitted(request.getWorkerType(), request.getTenant(), stepKey, selection.best());
        }
        metrics.trustRouting(request.getWorkerType(), selection);
        if (selection.earningTrust() || selection.explanation().startsWith("exploration budget")) {
            trace.add(selection.explanation());
        }
        if (selection.exploration()) {
            metrics.exploration(request.getWorkerType(), selection.best().backend());
            trace.add(selection.explanation().substring(0, selection.explanation().indexOf("; otherwise")));
        }
        countDecision(selection);
        LOG.infof("dispatch step %s (%s): %d of %d candidates eligible; %s", request.getStepId(),
                request.getWorkerType(), selection.eligibleCount(), selection.candidates().size(),
                selection.explanation());

        AtomicInteger attemptNumbers = new AtomicInteger();
        List<Attempt> attempts = new ArrayList<>();
        List<Selection> climbs = new ArrayList<>();
        Set<String> tried = new HashSet<>();
        double spent = 0;
        TenantBudgets.Reservation reservation = tenants.reserve(request.getTenant(),
                selection.best().estimatedCostUsd());
        Dispatcher.Outcome<ExecuteStepResponse> outcome;
        try {
            outcome = execute(request, selection, deadline, 0, attemptNumbers, trace);
        } catch (RuntimeException e) {
            tenants.settle(reservation, 0);
            trustEarning.budget().failed(request.getWorkerType(), request.getTenant(), stepKey, 0);
            throw e;
        }
        ExecuteStepResponse result = null;
        int level = 0;
        while (true) {
            spent += outcome.costUsd();
            tenants.settle(reservation, outcome.costUsd());
            int base = attempts.size();
            attempts.addAll(outcome.attempts());
            Backend backend = outcome.backend();
            tried.add(backend.model().id());
            result = calibrate(outcome.response(), backend, request, trace);
            int okIndex = base + outcome.succeededIndex();
            attempts.set(okIndex, attempts.get(okIndex).toBuilder().setConfidence(result.getConfidence())
                    .setRawConfidence(result.getRawConfidence()).build());
            String reason = cascadeOn ? cascadeReason(result, request.getWorkerType(), catalog) : null;
            if (reason == null) {
                break;
            }
            ModelTier from = backend.model().tier();
            if (from == ModelTier.ORACLE) {
                trace.add("output " + reason + ", but " + backend.key() + " is already the top tier: returned as is");
                break;
            }
            ModelTier to = ModelTier.values()[from.ordinal() + 1];
            ModelTier min = selectionRequest.minTier() == null || to.atLeast(selectionRequest.minTier()) ? to
                    : selectionRequest.minTier();
            SelectionRequest climb = selectionRequest.withMinTier(min).excluding(tried)
                    .withBudgets(refreshBudgets(selectionRequest, spent, request.getTenant()));
            Selection next = policyFor(request.getWorkerType()).select(climb, catalogs.current(), live);
            if (!next.chosen()) {
                trace.add("output " + reason + "; no cascade above " + from + ": " + next.explanation()
                        + "; returned the output of " + backend.key());
                break;
            }
            attempts.set(okIndex, attempts.get(okIndex).toBuilder()
                    .setOutcome(reason.startsWith("failed validation") ? AttemptOutcome.ATTEMPT_OUTCOME_VALIDATION_FAILED
                            : AttemptOutcome.ATTEMPT_OUTCOME_LOW_CONFIDENCE)
                    .setError(reason).build());
            String toTier = next.best().backend().model().tier().name();
            metrics.cascade(request.getWorkerType(), from.name(), toTier,
                    reason.startsWith("failed validation") ? "validation_failed" : "low_confidence");
            trace.add("cascade: output of " + backend.key() + " " + reason + "; climbing to tier " + toTier + ": "
                    + next.explanation());
            LOG.infof("step %s (%s): output of %s %s; cascading to %s", request.getStepId(), request.getWorkerType(),
                    backend.key(), reason, next.best().backend().key());
            level++;
            climbs.add(next);
            countDecision(next);
            reservation = tenants.reserve(request.getTenant(), next.best().estimatedCostUsd());
            try {
                outcome = execute(request, next, deadline, level, attemptNumbers, trace);
            } catch (RoutingFailedException | StatusRuntimeException e) {
                tenants.settle(reservation, 0);
                // the earlier output is kept: accepted work is never dropped because a climb failed
                trace.add("cascade to tier " + toTier + " failed (" + e.getMessage() + "); returned the output of "
                        + backend.key());
                LOG.warnf("step %s: cascade to %s failed (%s); returning the output of %s", request.getStepId(),
                        toTier, e.getMessage(), backend.key());
                break;
            }
        }
        TokenUsage finalUsage = outcome.usage();
        double baseline = catalog.oracleModel().map(m -> Pricing.tokenCostUsd(m, finalUsage)).orElse(0d);
        for (Attempt a : attempts) {
            metrics.cost(request.getWorkerType(), a.getModelId(), "dispatch", a.getCostUsd());
        }
        metrics.oracleBaseline(request.getWorkerType(), baseline);
        trustEarning.executed(request.getWorkerType(), request.getTenant(), stepKey,
                executed(outcome.backend(), selection, climbs), baseline, spent);
        BudgetStatus budget = budgetStatus(selectionRequest, request.getTenant());
        return new DispatchResult(result, selection, List.copyOf(climbs), List.copyOf(attempts), spent, baseline,
                trace.lines(), budget);
    }

    public ReviewResult review(ReviewRequest request, Deadline callerDeadline) {
        Catalog catalog = catalogs.current();
        DispatchTrace trace = new DispatchTrace();
        long inputTokens = catalog.estimateTokens(chars(request.getInputsMap())
                + request.getCandidateOutput().length() + request.getInstructions().length());
        // the step's hard requirements hold for its reviewer too; its budget does not (a selected review runs)
        SelectionRequest selectionRequest = toSelectionRequest(request.getWorkerType(),
                request.getRequirements().toBuilder().clearBudgetUsd().build(), Set.of(), inputTokens)
                .withMinTier(ModelTier.ORACLE)
                .requiring(workerTypes.requiredCapabilities(request.getWorkerType(), deadline(callerDeadline)));
        // a model reviewing its own output learns nothing: another oracle-tier model reviews when there is one
        if (!request.getCandidateModelId().isEmpty()) {
            SelectionRequest other = selectionRequest.excluding(Set.of(request.getCandidateModelId()));
            if (policyFor(request.getWorkerType()).select(other, catalog, live).chosen()) {
                selectionRequest = other;
            }
        }
        // the step's fate is known now: a trusted step leaves the exploration budget's pool of unknown outcomes
        trustEarning.budget().reviewing(request.getWorkerType(), request.getTenant(),
                stepKey(request.getTaskId(), request.getStepId()));
        Selection selection = selectOrFail(selectionRequest, catalog, trace, -1);
        countDecision(selection);
        if (config.review().skipSelfReview()
                && selection.best().backend().model().id().equals(request.getCandidateModelId())) {
            LOG.infof("review step %s (%s): the candidate is %s's own output and no other oracle-tier model can "
                    + "review it: accepted without a call", request.getStepId(), request.getWorkerType(),
                    request.getCandidateModelId());
            ReviewStepResponse self = ReviewStepResponse.newBuilder()
                    .setVerdict(ReviewVerdict.REVIEW_VERDICT_ACCEPTED)
                    .setReason("self-review skipped: the candidate is " + request.getCandidateModelId()
                            + "'s own output and no other oracle-tier model can review it")
                    .setReviewerOutput(request.getCandidateOutput())
                    .setModelId(request.getCandidateModelId())
                    .build();
            settleReview(request, self, 0, catalog);
            return new ReviewResult(self, selection, List.of(), 0);
        }
        LOG.infof("review step %s (%s) of %s: %s", request.getStepId(), request.getWorkerType(),
                request.getCandidateModelId(), selection.explanation());
        Dispatcher.Outcome<ReviewStepResponse> outcome = dispatcher.run(selection, deadline(callerDeadline),
                new Dispatcher.Spec<>("review", ReviewStepResponse.class,
                        (stub, backend, attempt) -> stub.reviewStep(ReviewStepRequest.newBuilder()
                                .setTaskId(request.getTaskId())
                                .setStepId(request.getStepId())
                                .setWorkerType(request.getWorkerType())
                                .putAllInputs(request.getInputsMap())
                                .setCandidateOutput(request.getCandidateOutput())
                                .setCandidateModelId(request.getCandidateModelId())
                                .setModelId(backend.model().id())
                                .setInstructions(request.getInstructions())
                                .build()),
                        ReviewStepResponse::getUsage, r -> r.getLatencyMs() / 1000, request.getWorkerType(), 0),
                0, new AtomicInteger(), trace);
        for (Attempt a : outcome.attempts()) {
            metrics.cost(request.getWorkerType(), a.getModelId(), "review", a.getCostUsd());
        }
        // reviews count toward the tenant's spend but are never refused: an output picked for review must be reviewed
        tenants.charge(request.getTenant(), outcome.costUsd());
        ReviewStepResponse review = outcome.response();
        settleReview(request, review, outcome.costUsd(), catalog);
        if (!request.getCandidateModelId().isEmpty()
                && review.getVerdict() != ReviewVerdict.REVIEW_VERDICT_UNSPECIFIED) {
            try {
                prediction.recordOutcome(request.getWorkerType(), request.getCandidateModelId(),
                        stepText(request.getInputsMap(), request.getInstructions()),
                        review.getVerdict() == ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
            } catch (RuntimeException e) {
                LOG.warnf("could not record the reviewed outcome for prompt-level routing: %s", e.toString());
            }
        }
        return new ReviewResult(review, selection, outcome.attempts(), outcome.costUsd());
    }

    /** A review's cost goes to the step's exploration account and teaches the review prices of the worker type. */
    private void settleReview(ReviewRequest request, ReviewStepResponse review, double costUsd, Catalog catalog) {
        boolean rejected = review.getVerdict() == ReviewVerdict.REVIEW_VERDICT_REJECTED;
        boolean withOutput = !review.getReviewerOutput().isBlank();
        double escalationReserve = 0;
        if (rejected && !withOutput) {
            ModelProfile oracle = catalog.oracleModelOrNull();
            long in = catalog.estimateTokens(chars(request.getInputsMap()) + request.getInstructions().length());
            escalationReserve = oracle == null ? 0 : oracle.costUsd(in, catalog.outputTokens(request.getWorkerType()), 0);
        }
        double stepBaseline = trustEarning.budget().reviewed(request.getWorkerType(), request.getTenant(),
                stepKey(request.getTaskId(), request.getStepId()), costUsd, escalationReserve);
        // a self-review skipped at no cost says nothing about what reviews cost
        reviewPricing.reviewed(request.getWorkerType(), costUsd, costUsd > 0 ? stepBaseline : 0, rejected,
                withOutput);
    }

    /** The audit did not hold the step's output for review: the exploration budget releases its hold. */
    public boolean settle(String taskId, String stepId, String workerType, String tenant) {
        return trustEarning.budget().settled(workerType, tenant, stepKey(taskId, stepId));
    }

    private static String stepKey(String taskId, String stepId) {
        return taskId + '/' + stepId;
    }

    /** The evaluation of the backend that produced the final output (first choice, failover or cascade). */
    private static CandidateEvaluation executed(Backend backend, Selection first, List<Selection> climbs) {
        for (int i = climbs.size() - 1; i >= -1; i--) {
            Selection s = i >= 0 ? climbs.get(i) : first;
            for (CandidateEvaluation c : s.candidates()) {
                if (c.backend().key().equals(backend.key())) {
                    return c;
                }
            }
        }
        return null;
    }

    /** The selection request for a step's requirements. */
    public static SelectionRequest toSelectionRequest(String workerType, StepRequirements r, Set<String> exclude,
                                                      long estimatedInputTokens) {
        return new SelectionRequest(workerType, r.getCapabilitiesList(), r.getMinContextTokens(),
                ModelTier.fromProto(r.getMinTier()), r.getLatencyTargetMs(), r.getResidencyTagsList(),
                r.getBudgetUsd(), exclude, estimatedInputTokens).withMinQuality(r.getMinQuality());
    }

    /** The text prompt-level prediction reads: inputs in name order, then the instructions. */
    public static String stepText(Map<String, String> inputs, String instructions) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : new TreeMap<>(inputs).entrySet()) {
            if (!sb.isEmpty()) {
                sb.append('\n');
            }
            sb.append(e.getValue());
        }
        if (instructions != null && !instructions.isBlank()) {
            sb.append('\n').append(instructions);
        }
        return sb.toString();
    }

    RoutingPolicy policyFor(String workerType) {
        return prediction.enabledFor(workerType) ? prediction : selector;
    }

    private Dispatcher.Outcome<ExecuteStepResponse> execute(DispatchRequest request, Selection selection,
                                                            Deadline deadline, int level, AtomicInteger attemptNumbers,
                                                            DispatchTrace trace) {
        return dispatcher.run(selection, deadline, new Dispatcher.Spec<>("dispatch", ExecuteStepResponse.class,
                (stub, backend, attempt) -> stub.executeStep(ExecuteStepRequest.newBuilder()
                        .setTaskId(request.getTaskId())
                        .setStepId(request.getStepId())
                        .setWorkerType(request.getWorkerType())
                        .putAllInputs(request.getInputsMap())
                        .setModelId(backend.model().id())
                        .setInstructions(request.getInstructions())
                        .setAttempt(attempt)
                        .build()),
                ExecuteStepResponse::getUsage, Pricing::modelSeconds, request.getWorkerType(),
                request.getRequirements().getLatencyTargetMs()), level, attemptNumbers, trace);
    }

    /** The response with its confidence calibrated by the stream's map (raw kept in raw_confidence). */
    private ExecuteStepResponse calibrate(ExecuteStepResponse response, Backend backend, DispatchRequest request,
                                          DispatchTrace trace) {
        double raw = response.getRawConfidence() != 0 || response.getConfidence() == 0 ? response.getRawConfidence()
                : response.getConfidence();
        Calibrations.Applied applied = calibrations.apply(backend.model().id(), request.getWorkerType(),
                request.getTenant(), raw);
        if (applied.map() != null) {
            trace.add(String.format(Locale.ROOT, "calibrated confidence %.3f -> %.3f (%s map of stream %s, %d reviews)",
                    raw, applied.calibrated(), applied.map().method(), applied.stream().replace('\n', '/'),
                    applied.map().samples()));
        }
        return response.toBuilder().setConfidence(applied.calibrated()).setRawConfidence(raw).build();
    }

    /** Why an output climbs the cascade, or null when it is good enough. */
    private String cascadeReason(ExecuteStepResponse result, String workerType, Catalog catalog) {
        if (config.cascade().onValidationFailure() && result.hasValidation() && !result.getValidation().getPassed()) {
            StringBuilder failed = new StringBuilder();
            result.getValidation().getGatesList().stream().filter(g -> !g.getPassed()).forEach(g -> {
                if (!failed.isEmpty()) {
                    failed.append(", ");
                }
                failed.append(g.getName());
            });
            return "failed validation (" + failed + ")";
        }
        double threshold = catalog.cascadeThreshold(workerType);
        if (threshold > 0 && result.getConfidence() < threshold) {
            return String.format(Locale.ROOT, "has calibrated confidence %.3f under the '%s' threshold %.3f",
                    result.getConfidence(), workerType, threshold);
        }
        return null;
    }

    private Selection selectOrFail(SelectionRequest request, Catalog catalog, DispatchTrace trace, int level) {
        Selection selection = policyFor(request.workerType()).select(request, catalog, live);
        if (!selection.chosen()) {
            LOG.warnf("routing failed: %s", selection.explanation());
            trace.add("routing failed: " + selection.explanation());
            throw failure(selection, request);
        }
        if (selection.budgetDowngrade()) {
            metrics.budget(selection.bindingBudget().kind(), "downgraded");
        }
        trace.add((level < 0 ? "review " : "") + "policy " + selection.policy() + ": " + selection.explanation());
        return selection;
    }

    private RoutingFailedException failure(Selection selection, SelectionRequest request) {
        return switch (selection.failure()) {
            case ALL_POOLS_FULL -> {
                metrics.loadShed(request.workerType(), "pools_full");
                yield new RoutingFailedException(RoutingFailedException.Kind.POOLS_FULL, selection.explanation(),
                        Math.max(selection.retryAfterNanos(), config.loadShedding().retryAfter().toNanos()));
            }
            case ALL_RATE_LIMITED -> {
                metrics.loadShed(request.workerType(), "rate_limited");
                yield new RoutingFailedException(RoutingFailedException.Kind.RATE_LIMITED, selection.explanation(),
                        selection.retryAfterNanos());
            }
            case ALL_CIRCUITS_OPEN -> new RoutingFailedException(RoutingFailedException.Kind.BACKENDS_FAILED,
                    selection.explanation());
            case BUDGET_EXCEEDED -> {
                metrics.budget(selection.bindingBudget().kind(), "rejected");
                yield new RoutingFailedException(RoutingFailedException.Kind.BUDGET_EXCEEDED, selection.explanation(),
                        0, selection.bindingBudget());
            }
            default -> new RoutingFailedException(RoutingFailedException.Kind.NO_CANDIDATE, selection.explanation());
        };
    }

    private void countDecision(Selection selection) {
        metrics.decision(selection.workerType(), selection.best().backend(), selection.policy());
    }

    private SelectionRequest withTenantBudget(SelectionRequest request, String tenant) {
        Optional<Budget> budget = tenants.budget(tenant);
        if (budget.isEmpty()) {
            return request;
        }
        List<Budget> budgets = new ArrayList<>(request.budgets());
        budgets.add(budget.get());
        return request.withBudgets(budgets);
    }

    /** The task budget less what the step spent so far, and the tenant's budget as it stands now. */
    private List<Budget> refreshBudgets(SelectionRequest request, double spent, String tenant) {
        List<Budget> out = new ArrayList<>();
        for (Budget b : request.taskBudgetAfter(spent)) {
            if (b.isTask()) {
                out.add(b);
            }
        }
        tenants.budget(tenant).ifPresent(out::add);
        return out;
    }

    private BudgetStatus budgetStatus(SelectionRequest request, String tenant) {
        BudgetStatus.Builder status = BudgetStatus.newBuilder().setTaskLeftUsd(request.taskBudgetUsd());
        tenants.budget(tenant).ifPresent(b -> status.setTenant(b.tenant()).setTenantLimitUsd(b.limitUsd())
                .setTenantSpentUsd(b.spentUsd()).setTenantWindowSeconds(b.window().toSeconds()));
        return status.build();
    }

    private Deadline deadline(Deadline callerDeadline) {
        return callerDeadline != null ? callerDeadline
                : Deadline.after(config.dispatch().defaultDeadline().toNanos(), TimeUnit.NANOSECONDS);
    }

    private static long chars(Map<String, String> inputs) {
        long total = 0;
        for (String value : inputs.values()) {
            total += value.length();
        }
        return total;
    }
}
