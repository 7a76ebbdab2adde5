package dev.tandem.router.dispatch;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.BudgetStatus;
import dev.tandem.proto.router.v1.CascadeMode;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.LatencyClass;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.router.budget.Budget;
import dev.tandem.router.budget.TenantBudgets;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.Calibrations;
import dev.tandem.router.selection.CandidateEvaluation;
import dev.tandem.router.selection.Exploration;
import dev.tandem.router.selection.Selection;
import dev.tandem.router.selection.SelectionRequest;
import dev.tandem.router.selection.TrustEarning;
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import org.jboss.logging.Logger;

/**
 * Routes steps ({@link ReviewRouting} routes reviews). A dispatch: select (policy, budgets, bounded exploration),
 * execute with failover ({@link Dispatcher}), calibrate the worker's confidence with the audit stream's map, and
 * cascade: when the output failed validation or its calibrated confidence is under the worker type's threshold
 * (both judged by {@link CascadeCheck}), route again at the next more capable tier (models already tried excluded,
 * the budget less what was spent), up to the oracle. Every attempt is priced and recorded; every decision is
 * explained in the trace.
 */
@ApplicationScoped
public class RoutingService {

    private static final Logger LOG = Logger.getLogger(RoutingService.class);

    /**
     * A successful dispatch with its routing and cost.
     *
     * @param calibratedConfidence the result's raw confidence through the audit's map of its stream: the one
     *        calibrated value of the output, which the cascade compared and the oracle reports and records
     */
    public record DispatchResult(ExecuteStepResponse result, double calibratedConfidence, Selection selection,
                                 List<Selection> cascadeSelections, List<Attempt> attempts, double costUsd,
                                 double oracleBaselineUsd, List<String> trace, BudgetStatus budget,
                                 double batchDiscountUsd) {
    }

    private final CatalogHolder catalogs;

    private final RouteChoice choice;

    private final Dispatcher dispatcher;

    private final CascadeCheck cascade;

    private final Exploration exploration;

    private final TrustEarning trustEarning;

    private final TenantBudgets tenants;

    private final RouterMetrics metrics;

    private final RouterConfig config;

    private final WorkerTypeDirectory workerTypes;

    public RoutingService(CatalogHolder catalogs, RouteChoice choice, Dispatcher dispatcher,
            CascadeCheck cascade, Exploration exploration, TrustEarning trustEarning, TenantBudgets tenants,
            RouterMetrics metrics, RouterConfig config, WorkerTypeDirectory workerTypes) {
        this.catalogs = catalogs;
        this.choice = choice;
        this.dispatcher = dispatcher;
        this.cascade = cascade;
        this.exploration = exploration;
        this.trustEarning = trustEarning;
        this.tenants = tenants;
        this.metrics = metrics;
        this.config = config;
        this.workerTypes = workerTypes;
    }

    /** The decision a dispatch would take now (no exploration, nothing reserved, no retirement recorded). */
    public Selection route(SelectionRequest request, String tenant) {
        SelectionRequest r = withTenantBudget(request, tenant).forTenant(tenant, request.maxErrorRate());
        return trustEarning.preview(choice.select(r, catalogs.current()), r);
    }

    public Selection route(SelectionRequest request) {
        return route(request, "");
    }

    public DispatchResult dispatch(DispatchRequest request, Deadline callerDeadline) {
        Catalog catalog = catalogs.current();
        DispatchTrace trace = new DispatchTrace();
        String stepText = stepText(request.getInputsMap(), request.getInstructions());
        long inputTokens = catalog.estimateTokens(stepText.length());
        boolean batch = request.getLatencyClass() == LatencyClass.LATENCY_CLASS_BATCH;
        Deadline deadline = dispatcher.deadlineFor(callerDeadline, batch, request.getBatchDeadline());
        SelectionRequest selectionRequest = withTenantBudget(toSelectionRequest(request.getWorkerType(),
                request.getRequirements(), Set.copyOf(request.getExcludeModelsList()), inputTokens)
                .withStepText(stepText), request.getTenant())
                .requiring(workerTypes.requiredCapabilities(request.getWorkerType(), deadline))
                .forTenant(request.getTenant(), request.getRequirements().getMaxErrorRate()).withBatch(batch);
        boolean cascadeOn = request.getCascade() == CascadeMode.CASCADE_MODE_ON
                || (request.getCascade() != CascadeMode.CASCADE_MODE_OFF && config.cascade().enabled());

        String stepKey = stepKey(request.getTaskId(), request.getStepId());
        Selection explored = exploration.apply(choice.selectOrFail(selectionRequest, catalog, trace, 0),
                selectionRequest);
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
            // the exploration's own reason, without the choice it replaced ("…; otherwise …")
            String explanation = selection.explanation();
            int otherwise = explanation.indexOf("; otherwise");
            trace.add(otherwise < 0 ? explanation : explanation.substring(0, otherwise));
        }
        choice.count(selection);
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
        Calibrations.Applied calibrated = null;
        int level = 0;
        while (true) {
            spent += outcome.costUsd();
            tenants.settle(reservation, outcome.costUsd());
            int base = attempts.size();
            attempts.addAll(outcome.attempts());
            Backend backend = outcome.backend();
            tried.add(backend.model().id());
            calibrated = cascade.calibrate(outcome.response(), backend, request, trace);
            result = CascadeCheck.asFirstV1Reads(outcome.response(), calibrated);
            int okIndex = base + outcome.succeededIndex();
            attempts.set(okIndex, attempts.get(okIndex).toBuilder().setConfidence(calibrated.calibrated())
                    .setRawConfidence(calibrated.raw()).build());
            String reason = cascadeOn ? cascade.reason(result, calibrated.calibrated(), request.getWorkerType(),
                    catalog) : null;
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
            Selection next = choice.select(climb, catalogs.current());
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
            choice.count(next);
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
        String producedBy = outcome.backend().model().id();
        double baseline = catalog.oracleModel()
                .map(m -> Pricing.oracleBaselineUsd(m, producedBy, finalUsage)).orElse(0d);
        for (Attempt a : attempts) {
            metrics.cost(request.getWorkerType(), a.getModelId(), "dispatch", a.getCostUsd());
        }
        metrics.oracleBaseline(request.getWorkerType(), baseline);
        trustEarning.executed(request.getWorkerType(), request.getTenant(), stepKey,
                executed(outcome.backend(), selection, climbs), baseline, spent);
        BudgetStatus budget = budgetStatus(selectionRequest, request.getTenant());
        return new DispatchResult(result, calibrated.calibrated(), selection, List.copyOf(climbs),
                List.copyOf(attempts), spent, baseline, trace.lines(), budget, batchDiscountUsd(attempts, catalog));
    }

    /** What batching saved on the attempts that went through a batch path (at their models' catalog prices). */
    static double batchDiscountUsd(List<Attempt> attempts, Catalog catalog) {
        double saved = 0;
        for (Attempt a : attempts) {
            if (a.hasUsage() && a.getUsage().getBatch()) {
                saved += catalog.model(a.getModelId()).map(m -> Pricing.batchDiscountUsd(m, a.getUsage())).orElse(0d);
            }
        }
        return saved;
    }

    /** The audit did not hold the step's output for review: the exploration budget releases its hold. */
    public boolean settle(String taskId, String stepId, String workerType, String tenant) {
        return trustEarning.budget().settled(workerType, tenant, stepKey(taskId, stepId));
    }

    /** The key the exploration budget holds a step's account under. */
    static String stepKey(String taskId, String stepId) {
        // the task id's length first: ids may hold '/', and task "a/b" step "c" is not task "a" step "b/c"
        return taskId.length() + ":" + taskId + '/' + stepId;
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

    private Dispatcher.Outcome<ExecuteStepResponse> execute(DispatchRequest request, Selection selection,
                                                            Deadline deadline, int level, AtomicInteger attemptNumbers,
                                                            DispatchTrace trace) {
        return dispatcher.run(selection, deadline, new Dispatcher.Spec<>("dispatch", ExecuteStepResponse.class,
                (stub, backend, attempt) -> {
                    String workerKey = WorkerCallKeys.of(request.getTenant(), request.getIdempotencyKey(),
                            backend.model().id());
                    return WorkerCallKeys.routed(stub, workerKey).executeStep(ExecuteStepRequest.newBuilder()
                        .setTaskId(request.getTaskId())
                        .setStepId(request.getStepId())
                        .setWorkerType(request.getWorkerType())
                        .putAllInputs(request.getInputsMap())
                        .setModelId(backend.model().id())
                        .setInstructions(request.getInstructions())
                        .setAttempt(attempt)
                        .setLatencyClass(request.getLatencyClass())
                        .setBatchDeadline(request.getBatchDeadline())
                        .setIdempotencyKey(workerKey)
                        .build());
                },
                ExecuteStepResponse::getUsage, Pricing::modelSeconds, request.getWorkerType(),
                request.getRequirements().getLatencyTargetMs(),
                request.getLatencyClass() == LatencyClass.LATENCY_CLASS_BATCH), level, attemptNumbers, trace);
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
}