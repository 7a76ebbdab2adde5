package dev.tandem.oracle.service;

import dev.tandem.models.chat.TokenUsage;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.repository.TaskRecord;
import dev.tandem.oracle.repository.TaskRepository;
import dev.tandem.proto.oracle.v1.Cost;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.PlanStep;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.proto.worker.v1.LatencyClass;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.context.Context;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.Consumer;

/**
 * Runs a task end to end: plan and validate, run the steps as a DAG (every step starts on a virtual thread as
 * soon as what it depends on is done, so independent steps overlap), synthesise, and price it. A task either
 * completes with every step accepted or fails as a whole with the status of the step that failed.
 */
@ApplicationScoped
public class TaskRunner {

    private static final Logger LOG = Logger.getLogger(TaskRunner.class);

    private final PlanningService planning;
    private final StepRunner steps;
    private final EmbeddedSynthesizer mergingSynthesizer;
    private final ModelSynthesizer modelSynthesizer;
    private final RouterCatalog catalog;
    private final TaskRepository tasks;
    private final OracleMetrics metrics;
    private final OracleConfig config;
    private final TaskRequestBounds bounds;

    // steps keep the task's trace context (the router and audit calls they make belong to the task's trace)
    private final ExecutorService stepThreads =
            Context.taskWrapping(Executors.newVirtualThreadPerTaskExecutor());
    // and its gRPC context: when the client cancels the task, the calls its steps make are cancelled too
    private final Executor stepExecutor = io.grpc.Context.currentContextExecutor(stepThreads);

    public TaskRunner(PlanningService planning, StepRunner steps, EmbeddedSynthesizer mergingSynthesizer,
            ModelSynthesizer modelSynthesizer, RouterCatalog catalog, TaskRepository tasks, OracleMetrics metrics,
            OracleConfig config, TaskRequestBounds bounds) {
        this.planning = planning;
        this.steps = steps;
        this.mergingSynthesizer = mergingSynthesizer;
        this.modelSynthesizer = modelSynthesizer;
        this.catalog = catalog;
        this.tasks = tasks;
        this.metrics = metrics;
        this.config = config;
        this.bounds = bounds;
    }

    @PreDestroy
    void close() {
        stepThreads.shutdown();
    }

    /**
     * Runs the task.
     *
     * @param deadline the client's deadline, applied to every downstream call; null when the call has none
     * @param listener receives the task's events in order
     */
    public ExecuteResponse run(ExecuteRequest request, Deadline deadline, Consumer<TaskEvent> listener) {
        bounds.checkSynchronous(request);
        var taskId = UUID.randomUUID().toString();
        return run(taskId, request, deadline, new TaskEvents(taskId, listener), TaskJournal.NONE);
    }

    /**
     * Runs a task that may have run before: the journal's plan and completed steps are taken as they are (a
     * completed step is not dispatched again), and the plan and every step completed now are recorded in it.
     *
     * @param events   the task's event stream, continuing from the last event of an earlier run
     * @param deadline the task's deadline (for a BATCH-class task: the end of its batch window), null for none
     */
    public ExecuteResponse run(String taskId, ExecuteRequest request, Deadline deadline, TaskEvents events,
            TaskJournal journal) {
        MDC.put("taskId", taskId);
        long started = System.nanoTime();
        metrics.taskStarted();
        var pipeline = "none";
        var outcome = "failed";
        tasks.save(TaskRecord.running(taskId, request.getTask(), request.getTenant()));
        try {
            if (deadline != null && deadline.isExpired()) {
                throw Status.DEADLINE_EXCEEDED.withDescription("the deadline expired before the task started")
                        .asRuntimeException();
            }
            bounds.check(request);
            var stored = journal.plan();
            var planned = stored.isPresent() ? planning.stored(stored.get().plan(), request, deadline)
                    : planning.plan(taskId, request, deadline);
            var plan = planned.plan();
            stopIfCancelled();
            pipeline = plan.getPipeline().isEmpty() ? "free-form" : plan.getPipeline();
            // planning is the oracle's own work: the same cost with or without workers
            double planningCost = stored.isPresent() ? stored.get().planningUsd()
                    : price(planned.usage(), planning.planner() instanceof ModelPlanner
                            ? planning.planner().name() : config.oracleModel(), deadline);
            if (stored.isEmpty()) {
                LOG.infof("plan ready from %s: %d steps in %d levels (%s)", plan.getPlanner(), plan.getStepsCount(),
                        planned.graph().levels().size(), plan.getRationale());
                journal.planned(plan, planningCost);
                events.planReady(plan);
            } else {
                LOG.infof("resuming with the stored plan: %d of %d steps already completed",
                        journal.completedSteps().size(), plan.getStepsCount());
            }

            // a journaled task's completed steps are durable, so their decisions must be too: decided remotely
            var ctx = new StepContext(taskId, request.getTenant(), request.getInputsMap(),
                    new ConcurrentHashMap<>(), deadline, request.getBudgetUsd(), new DoubleAdder(), events,
                    request.getMaxErrorRate(), journal == TaskJournal.NONE ? new DeferredAudits() : null,
                    request.getLatencyClass(), batchDeadline(request, deadline),
                    journal != TaskJournal.NONE && config.tasks().submitted().keyedCalls());
            var outcomes = runSteps(ctx, plan.getStepsList(), planned.graph(), journal);
            stopIfCancelled();

            var results = new ArrayList<StepResult>();
            double actual = 0;
            double allOracle = 0;
            double exploration = 0;
            double batchDiscount = 0;
            for (var step : plan.getStepsList()) {
                var o = outcomes.get(step.getId());
                results.add(o.result());
                actual += o.result().getCostUsd();
                batchDiscount += o.result().getBatchDiscountUsd();
                allOracle += o.oracleBaselineUsd();
                exploration += o.explorationUsd();
            }
            var synthesizer = config.synthesizer().model().isPresent() ? modelSynthesizer : mergingSynthesizer;
            var synthesis = synthesizer.synthesize(request.getTask(), plan, results, events);
            double synthesisCost = synthesis.model().map(m -> price(synthesis.usage(), m, deadline)).orElse(0.0);
            actual += planningCost + synthesisCost;
            allOracle += planningCost + synthesisCost;
            var cost = Cost.newBuilder().setActualUsd(actual).setAllOracleUsd(allOracle)
                    .setSavingsFraction(allOracle > 0 ? 1 - actual / allOracle : 0).setExplorationUsd(exploration)
                    .setBatchDiscountUsd(batchDiscount).build();
            var response = ExecuteResponse.newBuilder().setTaskId(taskId).setOutput(synthesis.output())
                    .addAllSteps(results).setCost(cost).setPlan(plan).build();
            metrics.cost(pipeline, actual, allOracle);
            metrics.batchSaved(batchDiscount);
            tasks.update(taskId, r -> r.succeeded(response));
            LOG.infof("task done: %d steps, %d reviewed, %d escalated; cost %.6f USD vs %.6f all-oracle",
                    results.size(), results.stream().filter(r -> r.getAudit().getDecision().equals("review")).count(),
                    results.stream().filter(StepResult::getEscalated).count(), actual, allOracle);
            events.taskDone(response);
            outcome = "ok";
            return response;
        } catch (InvalidTaskException e) {
            outcome = "invalid";
            tasks.update(taskId, r -> r.failed("INVALID_ARGUMENT: " + e.getMessage()));
            LOG.infof("task refused: %s", e.getMessage());
            throw e;
        } catch (StatusRuntimeException e) {
            outcome = e.getStatus().getCode().name().toLowerCase(Locale.ROOT);
            tasks.update(taskId, r -> r.failed(e.getStatus().getCode() + ": " + e.getStatus().getDescription()));
            LOG.warnf("task failed: %s %s", e.getStatus().getCode(), e.getStatus().getDescription());
            throw e;
        } catch (RuntimeException e) {
            tasks.update(taskId, r -> r.failed("INTERNAL: " + e));
            LOG.error("task failed unexpectedly", e);
            throw Status.INTERNAL.withDescription("task " + taskId + " failed: " + e.getMessage()).withCause(e)
                    .asRuntimeException();
        } finally {
            metrics.taskEnded(outcome, pipeline, Duration.ofNanos(System.nanoTime() - started));
            metrics.taskByClass(latencyClassLabel(request.getLatencyClass()), outcome);
            MDC.remove("taskId");
        }
    }

    /** The class as a metric label: interactive, standard or batch (unset counts as interactive). */
    static String latencyClassLabel(LatencyClass latencyClass) {
        return switch (latencyClass) {
            case LATENCY_CLASS_STANDARD -> "standard";
            case LATENCY_CLASS_BATCH -> "batch";
            default -> "interactive";
        };
    }

    /** When a BATCH-class task's batch window ends: its deadline (the queue sets it from the submission time). */
    private static Instant batchDeadline(ExecuteRequest request, Deadline deadline) {
        if (request.getLatencyClass() != LatencyClass.LATENCY_CLASS_BATCH || deadline == null) {
            return null;
        }
        return Instant.now().plusNanos(deadline.timeRemaining(TimeUnit.NANOSECONDS));
    }

    /**
     * A task whose gRPC context is cancelled goes no further: CANCELLED when its client cancelled it,
     * DEADLINE_EXCEEDED when the context ended with the client's deadline.
     */
    private static void stopIfCancelled() {
        var context = io.grpc.Context.current();
        if (!context.isCancelled()) {
            return;
        }
        if (context.cancellationCause() instanceof TimeoutException) {
            throw Status.DEADLINE_EXCEEDED.withDescription("the deadline expired").asRuntimeException();
        }
        throw Status.CANCELLED.withDescription("the client cancelled the task").asRuntimeException();
    }

    /**
     * Every step starts when its dependencies are done; the first failure (in plan order) fails the task. Steps the
     * journal has completed are not run again: their outputs feed their dependents as they were accepted. A step
     * passed under the audit's published policy leaves its locally taken decision deferred; all of those are stored
     * in one batch once every step is done ({@link StepRunner#settle}), before anything of the task is released.
     * When the stored decision of an output other steps had read turns into a review that rejects it, those steps
     * (and the steps that read them) run again on the oracle's redo, and their new decisions are settled the same
     * way; each re-run is said in a StepRerun event and in the step's result, and paid for in its cost.
     */
    private Map<String, StepOutcome> runSteps(StepContext ctx, List<PlanStep> planSteps, PlanGraph graph,
            TaskJournal journal) {
        Map<String, PlanStep> byId = new HashMap<>();
        planSteps.forEach(s -> byId.putIfAbsent(s.getId(), s));
        Set<String> consumed = new HashSet<>();
        Map<String, Set<String>> directReaders = new HashMap<>();
        for (var s : planSteps) {
            consumed.addAll(s.getDependsOnList());
            s.getDependsOnList().forEach(d -> directReaders.computeIfAbsent(d, k -> new LinkedHashSet<>())
                    .add(s.getId()));
        }
        var completed = journal.completedSteps();
        completed.forEach((id, done) -> {
            ctx.acceptedOutputs().put(id, done.result().getOutput());
            ctx.spentUsd().add(done.result().getCostUsd());
        });
        var toRun = new LinkedHashSet<String>(graph.topologicalOrder());
        toRun.removeAll(completed.keySet());
        Map<String, StepOutcome> outcomes = new HashMap<>(completed);
        outcomes.putAll(runRound(ctx, byId, graph, journal, consumed, toRun, outcomes, 0));
        if (ctx.deferred() == null) {
            return outcomes;
        }
        Map<String, StepOutcome> discardedRuns = new HashMap<>();
        Map<String, String> rerunReasons = new HashMap<>();
        for (int round = 1; ; round++) {
            var settled = steps.settle(ctx, consumed, id -> transitiveReaders(id, directReaders));
            outcomes.putAll(settled.outcomes());
            if (settled.rerun().isEmpty()) {
                break;
            }
            if (round > planSteps.size()) {
                // each round re-runs only steps downstream of the last round's rejections: a DAG runs out of them
                throw Status.INTERNAL.withDescription("steps were re-run more often than the plan is deep")
                        .asRuntimeException();
            }
            for (var e : settled.rerun().entrySet()) {
                var id = e.getKey();
                var reason = "step '" + id + "' had read the output of step '" + e.getValue() + "', which the review "
                        + "the audit service's current policy asked for rejected after it was used; it ran again on "
                        + "the oracle's redo";
                discardedRuns.merge(id, outcomes.remove(id), StepOutcome::plus);
                rerunReasons.put(id, reason);
                ctx.events().stepRerun(id, e.getValue(), reason);
                metrics.rerun(byId.get(id).getWorkerType());
            }
            LOG.infof("re-running %d step(s) that read a rejected output: %s", settled.rerun().size(),
                    settled.rerun().keySet());
            outcomes.putAll(runRound(ctx, byId, graph, TaskJournal.NONE, consumed, settled.rerun().keySet(),
                    outcomes, round));
        }
        discardedRuns.forEach((id, earlier) -> outcomes.put(id,
                outcomes.get(id).afterDiscarded(earlier, rerunReasons.get(id))));
        return outcomes;
    }

    /**
     * Runs {@code toRun} as a DAG (a step starts when what it depends on is done; steps not run here are taken as
     * {@code done} says) and returns the finished ones; a step whose decision was deferred is not among them.
     */
    private Map<String, StepOutcome> runRound(StepContext ctx, Map<String, PlanStep> byId, PlanGraph graph,
            TaskJournal journal, Set<String> consumed, Set<String> toRun, Map<String, StepOutcome> done, int round) {
        if (toRun.size() == 1) {
            return runAlone(ctx, byId.get(toRun.iterator().next()), journal, consumed, round);
        }
        Map<String, CompletableFuture<StepOutcome>> futures = new HashMap<>();
        for (var id : graph.topologicalOrder()) {
            if (!toRun.contains(id)) {
                futures.put(id, CompletableFuture.completedFuture(done.get(id)));
                continue;
            }
            var step = byId.get(id);
            var deps = new LinkedHashSet<>(step.getDependsOnList()).stream().map(futures::get)
                    .toArray(CompletableFuture[]::new);
            futures.put(id, CompletableFuture.allOf(deps).thenApplyAsync(ignored -> {
                var outcome = steps.run(ctx, step, consumed.contains(id), round);
                if (outcome != null) { // null: deferred, so not journaled (only unjournaled tasks defer)
                    journal.stepCompleted(outcome); // durable before any dependent starts
                }
                return outcome;
            }, stepExecutor));
        }
        try {
            CompletableFuture.allOf(futures.values().toArray(CompletableFuture[]::new)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } catch (ExecutionException e) {
            // fall through: report the first failed step in plan order, not whichever failed first in time
        }
        Map<String, StepOutcome> outcomes = new HashMap<>();
        for (var id : graph.topologicalOrder()) {
            if (!toRun.contains(id)) {
                continue;
            }
            try {
                var outcome = futures.get(id).join();
                if (outcome != null) {
                    outcomes.put(id, outcome);
                }
            } catch (CompletionException e) {
                if (ctx.deferred() != null) {
                    // nothing of the task is released, but the outputs were decided: the ledger counts them
                    steps.recordUnreleased(ctx);
                }
                var cause = e.getCause();
                throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
            }
        }
        return outcomes;
    }

    /**
     * A round of one step (every single-step task, and most re-runs) runs on the task's own thread: the same work as
     * {@link #runRound}'s, without a thread to start and to wait for on the commonest task shape's hot path.
     */
    private Map<String, StepOutcome> runAlone(StepContext ctx, PlanStep step, TaskJournal journal,
            Set<String> consumed, int round) {
        StepOutcome outcome;
        try {
            outcome = steps.run(ctx, step, consumed.contains(step.getId()), round);
        } catch (RuntimeException e) {
            if (ctx.deferred() != null) {
                // nothing of the task is released, but the output was decided: the ledger counts it
                steps.recordUnreleased(ctx);
            }
            throw e;
        }
        if (outcome == null) { // deferred, so not journaled (only unjournaled tasks defer)
            return Map.of();
        }
        journal.stepCompleted(outcome);
        return Map.of(step.getId(), outcome);
    }

    /** The steps that read {@code id}'s output, directly or through other steps. */
    static Set<String> transitiveReaders(String id, Map<String, Set<String>> directReaders) {
        var found = new LinkedHashSet<String>();
        var next = new java.util.ArrayDeque<String>(directReaders.getOrDefault(id, Set.of()));
        while (!next.isEmpty()) {
            var r = next.poll();
            if (found.add(r)) {
                next.addAll(directReaders.getOrDefault(r, Set.of()));
            }
        }
        return found;
    }

    /** Tokens of the oracle's own calls at the model's prices in the router's catalog (0 when it is not there). */
    private double price(TokenUsage usage, String modelId, Deadline deadline) {
        if (usage.equals(TokenUsage.NONE)) {
            return 0;
        }
        var model = catalog.model(modelId, deadline);
        if (model.isEmpty()) {
            LOG.debugf("model %s is not in the router's catalog; its tokens are not priced", modelId);
            return 0;
        }
        var m = model.get();
        return (usage.inputTokens() * m.getInputUsdPerMtok() + usage.outputTokens() * m.getOutputUsdPerMtok()
                + usage.cachedInputTokens() * m.getCachedInputUsdPerMtok()) / 1_000_000.0;
    }
}
