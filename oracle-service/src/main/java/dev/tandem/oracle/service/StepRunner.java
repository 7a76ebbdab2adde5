package dev.tandem.oracle.service;

import dev.tandem.oracle.client.RouterClient;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.LocalDecision;
import dev.tandem.proto.router.v1.SettleStepRequest;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.ReviewMode;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.Verdict;
import dev.tandem.proto.oracle.v1.AuditOutcome;
import dev.tandem.proto.oracle.v1.PlanStep;
import dev.tandem.proto.oracle.v1.StepFinished;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.router.v1.Tier;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;

/**
 * Runs one step: substitute its inputs, dispatch it through the router, take the audit decision (locally under the
 * audit's published policy, stored with the task's batch by {@link #settle}, or with the audit service's Decide),
 * review a blocking decision (a shadow one is reviewed by the audit service from its durable queue), escalate a
 * rejected output, and report the step with its provenance and cost.
 *
 * <p>Over 350 lines on purpose: a step's path from dispatch to its accepted output is one sequence whose parts
 * (the stored decision, the review it asks for, the escalation, the router's hold) share the step's state; split
 * into classes, that state would travel through every boundary.
 */
@ApplicationScoped
public class StepRunner {

    private static final Logger LOG = Logger.getLogger(StepRunner.class);

    private final RouterClient router;
    private final RouterCatalog catalog;
    private final AuditGateway audit;
    private final AuditPolicyCache policies;
    private final OracleMetrics metrics;
    private final int maxStepInputChars;

    public StepRunner(RouterClient router, RouterCatalog catalog, AuditGateway audit, AuditPolicyCache policies,
            OracleMetrics metrics, OracleConfig config) {
        this.maxStepInputChars = config.limits().maxStepInputChars();
        this.router = router;
        this.catalog = catalog;
        this.audit = audit;
        this.policies = policies;
        this.metrics = metrics;
    }

    public StepOutcome run(StepContext ctx, PlanStep step) {
        return run(ctx, step, true, 0);
    }

    /**
     * Runs one step.
     *
     * @param consumed other steps read this one's output: its decision waits for the task's batch only under a
     *        settled policy ({@link AuditPolicyCache}), else it is stored before the step returns
     * @param run      0 for the step's first run, n for its n-th re-run (its decision then has an id of its own)
     * @return the finished step, or null when its decision was taken locally and waits in {@code ctx.deferred()}
     *         for {@link #settle}
     */
    public StepOutcome run(StepContext ctx, PlanStep step, boolean consumed, int run) {
        long started = System.nanoTime();
        MDC.put("taskId", ctx.taskId());
        try {
            if (ctx.deadline() != null && ctx.deadline().isExpired()) {
                throw failure(step, Status.DEADLINE_EXCEEDED, "the deadline expired before the step started");
            }
            var inputs = resolveInputs(step, ctx, maxStepInputChars);
            ctx.events().stepStarted(step.getId(), step.getWorkerType());
            var workerType = catalog.workerTypes(ctx.deadline()).get(step.getWorkerType());
            var requirements = StepRequirements.newBuilder().setBudgetUsd(ctx.remainingBudgetUsd())
                    .setMaxErrorRate(ctx.maxErrorRate());
            if (workerType != null) {
                requirements.addAllCapabilities(workerType.getRequiredCapabilitiesList());
            }
            var dispatch = DispatchRequest.newBuilder().setTaskId(ctx.taskId()).setStepId(step.getId())
                    .setWorkerType(step.getWorkerType()).putAllInputs(inputs).setInstructions(step.getInstructions())
                    .setRequirements(requirements).setTenant(ctx.tenant()).setLatencyClass(ctx.latencyClass())
                    .setIdempotencyKey(ctx.callKey(step.getId(), "execute"));
            ctx.batchDeadlineTimestamp().ifPresent(dispatch::setBatchDeadline);
            var request = dispatch.build();

            double cost = 0;
            boolean escalated = false;
            var failedAttempts = new ArrayList<String>();
            DispatchResponse dispatched;
            try {
                dispatched = router.dispatch(request, ctx.deadline());
            } catch (RuntimeException e) {
                var status = statusOf(e);
                if (!escalatable(status, ctx)) {
                    throw failure(step, status, "dispatch failed: " + describe(status));
                }
                // the router already failed over between backends; one last try on the oracle tier
                LOG.warnf("step %s: dispatch failed after the router's failover (%s); escalating to the oracle tier",
                        step.getId(), describe(status));
                failedAttempts.add("dispatch: " + describe(status));
                dispatched = dispatchOnOracleTier(step, request, List.of(), ctx, "dispatch failed after failover");
                escalated = true;
                metrics.escalation(step.getWorkerType(), "dispatch_failed");
            }
            ctx.spentUsd().add(dispatched.getCostUsd());
            cost += dispatched.getCostUsd();
            double batchDiscount = dispatched.getBatchDiscountUsd();
            double workerMs = dispatched.getResult().getLatencyMs();
            failedAttempts.addAll(failed(dispatched.getAttemptsList()));
            var result = dispatched.getResult();
            // the one calibrated value of the output: what the router's cascade compared, the StepResult reports
            // and the audit ledger records
            double confidence = calibratedConfidence(dispatched);
            var executedBy = executedBy(result.getModelId(), dispatched.getDecision().getPoolId());
            ctx.events().stepFinished(StepFinished.newBuilder().setStepId(step.getId()).setExecutedBy(executedBy)
                    .setConfidence(confidence).setRouting(dispatched.getDecision().getExplanation())
                    .setValidationPassed(result.getValidation().getPassed()).build());
            if (escalated) {
                ctx.events().stepEscalated(step.getId(), "dispatch failed after the router's failover", executedBy);
            }

            // a re-run is another output: another decision, not a replay of the first one's
            var decisionId = ctx.taskId() + "/" + step.getId() + (run == 0 ? "" : "/rerun-" + run);
            if (oracleTier(dispatched, result.getModelId()) || catalog.model(result.getModelId(), ctx.deadline())
                    .map(m -> m.getTier() == Tier.TIER_ORACLE).orElse(false)) {
                // the oracle does not review itself: its output is the reference a review would compare with
                var auditOutcome = AuditOutcome.newBuilder().setDecision("pass").setReason("oracle_output")
                        .setTrustState("oracle").build();
                ctx.events().stepAudited(step.getId(), auditOutcome);
                ctx.acceptedOutputs().put(step.getId(), result.getOutput());
                double durationMs = (System.nanoTime() - started) / 1e6;
                metrics.step(step.getWorkerType(), escalated, Duration.ofNanos(System.nanoTime() - started));
                LOG.infof("step %s (%s) done by %s (oracle tier, not audited) in %.0f ms%s", step.getId(),
                        step.getWorkerType(), executedBy, durationMs, escalated ? ", escalated" : "");
                return new StepOutcome(StepResult.newBuilder().setStepId(step.getId())
                        .setWorkerType(step.getWorkerType()).setExecutedBy(executedBy)
                        .setConfidence(confidence).setRawConfidence(result.getRawConfidence())
                        .setAudit(auditOutcome).setEscalated(escalated).setOutput(result.getOutput())
                        .setRouting(dispatched.getDecision().getExplanation()).addAllFailedAttempts(failedAttempts)
                        .setCostUsd(cost).setDurationMs(durationMs).setWorkerMs(workerMs)
                        .setBatchDiscountUsd(batchDiscount).build(),
                        dispatched.getOracleBaselineUsd(), 0);
            }
            // the inputs and output go with the decision: a shadow review (done by the audit service from its
            // durable queue) and the exported traces need them
            var decideBuilder = DecideRequest.newBuilder().setDecisionId(decisionId)
                    .setTaskId(ctx.taskId()).setStepId(step.getId()).setStream(StreamKey.newBuilder()
                            .setWorkerBackend(result.getModelId()).setWorkerType(step.getWorkerType())
                            .setTenant(ctx.tenant()))
                    .setConfidence(confidence).setRawConfidence(result.getRawConfidence())
                    .setValidationPassed(result.getValidation().getPassed()).putAllInputs(inputs)
                    .setCandidateOutput(result.getOutput()).setInstructions(step.getInstructions())
                    // a shadow review of a BATCH-class step goes out batch-class too (the audit service sends it)
                    .setLatencyClass(ctx.latencyClass());
            ctx.batchDeadlineTimestamp().ifPresent(decideBuilder::setBatchDeadline);
            var decide = decideBuilder.build();
            var held = new Held(step, ctx, request, inputs, result, dispatched, confidence, cost, batchDiscount,
                    workerMs, failedAttempts, escalated, executedBy, started, decisionId);
            var local = ctx.deferred() == null ? Optional.<AuditPolicyCache.Local>empty() : policies.decide(decide);
            if (local.isPresent() && !heldForReview(local.get().decision())
                    && (!consumed || local.get().settledPolicy())) {
                // passed (or shadow-sampled) under the published policy: dependents read it now, the answer waits
                // for the task's batch
                ctx.acceptedOutputs().put(step.getId(), result.getOutput());
                ctx.deferred().add(held, local.get().decision());
                return null;
            }
            // a blocking review (stored before the review, whose verdict refers to it), or an output other steps
            // read while its stream's policy is still changing (stored before they read it)
            var decision = local.isPresent()
                    ? audit.recordDecisions(List.of(local.get().decision()), ctx.deadline()).get(0)
                    : audit.decide(decide, ctx.deadline());
            return finish(held, decision, 0);
        } finally {
            MDC.remove("taskId");
        }
    }

    /**
     * The stored decisions of a batch: the finished steps by id (a step whose output is discarded unreleased with
     * what it cost), and the steps to run again, each with the step whose rejected output it had read.
     */
    public record Settlement(Map<String, StepOutcome> outcomes, Map<String, String> rerun) {
    }

    /**
     * Records the task's locally taken decisions in one RecordDecisions batch and finishes their steps on the
     * stored decisions: an output the audit service re-decided from pass to a blocking review (its policy changed
     * since the oracle read it) is reviewed now, before the answer is released, and escalated when rejected. Other
     * steps may already have read such an output: when it is accepted they stand; when it is rejected (and the
     * oracle's redo differs) what they built on it is wrong, so every step that read it, directly or through other
     * steps, is to run again on the redo ({@link Settlement#rerun}). Those of them waiting in this batch are not
     * finished (their decisions are stored, their outputs never released, nor reviewed: a review of an output thrown
     * away would cost for nothing), and the router's hold on them is released. That takes a policy unchanged for
     * {@code policy-stable-for} that changes between the oracle's refresh and the batch, an output the new policy
     * reviews blocking and a rejection: rare, and never an answer on an output not decided in the ledger.
     *
     * @param consumed the ids of the steps other steps read
     * @param readers  the steps that read a step's output, directly or through other steps
     */
    public Settlement settle(StepContext ctx, Set<String> consumed, Function<String, Set<String>> readers) {
        var deferred = ctx.deferred().drain();
        var outcomes = new LinkedHashMap<String, StepOutcome>();
        var rerun = new LinkedHashMap<String, String>();
        if (deferred.isEmpty()) {
            return new Settlement(outcomes, rerun);
        }
        long batchStarted = System.nanoTime();
        var stored = audit.recordDecisions(deferred.stream().map(DeferredAudits.Deferred::decision).toList(),
                ctx.deadline());
        // in the order the steps were deferred, which is never before a step they read
        for (int i = 0; i < deferred.size(); i++) {
            var d = deferred.get(i);
            var decision = stored.get(i);
            var step = d.held().step();
            if (!sameAction(d.decision(), decision)) {
                LOG.infof("step %s: the audit service re-decided the local %s as %s %s (%s)", step.getId(),
                        d.decision().getAction(), decision.getAction(), decision.getMode(), decision.getReason());
                metrics.redecided(step.getWorkerType());
            }
            MDC.put("taskId", ctx.taskId());
            try {
                if (rerun.containsKey(step.getId())) {
                    outcomes.put(step.getId(), discarded(d.held()));
                    continue;
                }
                // the step's time excludes its wait for the other steps: the batch (and any review) counts
                var outcome = finish(d.held(), decision, Math.max(0, batchStarted - d.deferredAt()));
                outcomes.put(step.getId(), outcome);
                if (consumed.contains(step.getId()) && outcome.result().getAudit().getVerdict().equals("rejected")
                        && !outcome.result().getOutput().equals(d.held().result().getOutput())) {
                    LOG.infof("step %s was rejected after later steps had read it: they run again on its redo",
                            step.getId());
                    readers.apply(step.getId()).forEach(r -> rerun.putIfAbsent(r, step.getId()));
                }
            } finally {
                MDC.remove("taskId");
            }
        }
        return new Settlement(outcomes, rerun);
    }

    /**
     * A deferred step whose output is thrown away unreleased (it read an output rejected since): what it cost, and
     * the router's hold on it released, since no review will follow.
     */
    private StepOutcome discarded(Held h) {
        var ctx = h.ctx();
        var step = h.step();
        router.settleStep(SettleStepRequest.newBuilder().setTaskId(ctx.taskId()).setStepId(step.getId())
                .setWorkerType(step.getWorkerType()).setTenant(ctx.tenant()).build());
        return new StepOutcome(StepResult.newBuilder().setStepId(step.getId()).setWorkerType(step.getWorkerType())
                .setExecutedBy(h.executedBy()).setCostUsd(h.cost()).setBatchDiscountUsd(h.batchDiscount()).build(),
                h.dispatched().getOracleBaselineUsd(), h.dispatched().getDecision().getEarningTrust()
                        ? Math.max(0, h.cost() - h.dispatched().getOracleBaselineUsd()) : 0);
    }

    /**
     * Records the deferred decisions of a task that failed: none of its outputs is released, so none is reviewed,
     * but every output was decided and the stream's counts and shadow samples include it.
     */
    public void recordUnreleased(StepContext ctx) {
        var deferred = ctx.deferred().drain();
        try {
            audit.recordDecisions(deferred.stream().map(DeferredAudits.Deferred::decision).toList(), ctx.deadline());
        } catch (RuntimeException e) {
            LOG.warnf("the decisions of %d outputs of the failed task were not recorded: %s", deferred.size(),
                    e.getMessage());
        }
    }

    /** What a step has done when its audit decision is known (or taken locally and waiting to be stored). */
    record Held(PlanStep step, StepContext ctx, DispatchRequest request, Map<String, String> inputs,
                ExecuteStepResponse result, DispatchResponse dispatched, double confidence, double cost,
                double batchDiscount, double workerMs, List<String> failedAttempts, boolean escalated, String executedBy, long started, String decisionId) {
    }

    private static boolean heldForReview(LocalDecision d) {
        return d.getAction() == AuditAction.AUDIT_ACTION_REVIEW && d.getMode() != ReviewMode.REVIEW_MODE_SHADOW;
    }

    private static boolean sameAction(LocalDecision local, DecideResponse stored) {
        return local.getAction() == stored.getAction() && local.getMode() == stored.getMode();
    }

    /**
     * Acts on the stored decision: settle the router's hold, review a blocking one, escalate a rejected one.
     *
     * @param waitedNanos time the step waited for the task's other steps before its batch, not the step's own time
     */
    private StepOutcome finish(Held h, DecideResponse decision, long waitedNanos) {
        var step = h.step();
        var ctx = h.ctx();
        var request = h.request();
        var inputs = h.inputs();
        var result = h.result();
        var dispatched = h.dispatched();
        var decisionId = h.decisionId();
        double cost = h.cost();
        double batchDiscount = h.batchDiscount();
        double workerMs = h.workerMs();
        var failedAttempts = new ArrayList<>(h.failedAttempts());
        boolean escalated = h.escalated();
        var executedBy = h.executedBy();
        double confidence = h.confidence();
        long started = h.started() + waitedNanos;
        var outcome = auditOutcome(decision);
        var accepted = result.getOutput();
        if (decision.getAction() != AuditAction.AUDIT_ACTION_REVIEW
                || decision.getMode() == ReviewMode.REVIEW_MODE_SHADOW) {
            // nothing held for review: the router's exploration budget may release its hold on this step
            router.settleStep(SettleStepRequest.newBuilder().setTaskId(ctx.taskId()).setStepId(step.getId())
                    .setWorkerType(step.getWorkerType()).setTenant(ctx.tenant()).build());
        }

        if (decision.getAction() == AuditAction.AUDIT_ACTION_REVIEW) {
            if (decision.getMode() == ReviewMode.REVIEW_MODE_SHADOW) {
                // not held: the audit service reviews it from its durable queue, so no restart loses it
                outcome.setMode("shadow");
                metrics.review(step.getWorkerType(), "shadow", "queued");
            } else {
                outcome.setMode("blocking");
                var asked = ReviewRequest.newBuilder().setTaskId(ctx.taskId()).setStepId(step.getId())
                        .setWorkerType(step.getWorkerType()).putAllInputs(inputs).setCandidateOutput(accepted)
                        .setCandidateModelId(result.getModelId()).setInstructions(step.getInstructions())
                        // the reviewer must meet the step's hard requirements too (a generative type needs a
                        // generative reviewer); the budget does not apply: a selected review is never skipped
                        .setRequirements(request.getRequirements().toBuilder().clearBudgetUsd())
                        .setTenant(ctx.tenant()).setLatencyClass(ctx.latencyClass())
                        .setIdempotencyKey(ctx.callKey(step.getId(), "review"));
                ctx.batchDeadlineTimestamp().ifPresent(asked::setBatchDeadline);
                var reviewRequest = asked.build();
                ReviewResponse review;
                try {
                    review = router.review(reviewRequest, ctx.deadline());
                } catch (RuntimeException e) {
                    // an output selected for review is never accepted unreviewed
                    throw failure(step, statusOf(e), "review failed: " + describe(statusOf(e)));
                }
                ctx.spentUsd().add(review.getCostUsd());
                cost += review.getCostUsd();
                batchDiscount += review.getBatchDiscountUsd();
                workerMs += review.getReview().getLatencyMs();
                var verdict = review.getReview();
                boolean rejected = verdict.getVerdict() == ReviewVerdict.REVIEW_VERDICT_REJECTED;
                outcome.setVerdict(rejected ? "rejected" : "accepted").setVerdictReason(verdict.getReason());
                audit.recordVerdict(RecordVerdictRequest.newBuilder().setDecisionId(decisionId)
                        .setVerdict(rejected ? Verdict.VERDICT_REJECTED : Verdict.VERDICT_ACCEPTED)
                        .setReviewer(verdict.getModelId()).setReason(verdict.getReason())
                        .setReviewerOutput(rejected ? verdict.getReviewerOutput() : "").build(),
                        ctx.deadline());
                metrics.review(step.getWorkerType(), "blocking", rejected ? "rejected" : "accepted");
                LOG.infof("step %s reviewed by %s: %s (%s)", step.getId(), verdict.getModelId(),
                        rejected ? "rejected" : "accepted", verdict.getReason());
                if (rejected) {
                    if (!verdict.getReviewerOutput().isBlank()) {
                        accepted = verdict.getReviewerOutput();
                        executedBy = executedBy(verdict.getModelId(), review.getDecision().getPoolId());
                    } else {
                        var redo = dispatchOnOracleTier(step, request, List.of(result.getModelId()), ctx,
                                "rejected by review");
                        ctx.spentUsd().add(redo.getCostUsd());
                        cost += redo.getCostUsd();
                        batchDiscount += redo.getBatchDiscountUsd();
                        workerMs += redo.getResult().getLatencyMs();
                        failedAttempts.addAll(failed(redo.getAttemptsList()));
                        accepted = redo.getResult().getOutput();
                        executedBy = executedBy(redo.getResult().getModelId(), redo.getDecision().getPoolId());
                    }
                    escalated = true;
                    metrics.escalation(step.getWorkerType(), "rejected");
                    ctx.events().stepEscalated(step.getId(), verdict.getReason(), executedBy);
                }
            }
        }
        var auditOutcome = outcome.build();
        ctx.events().stepAudited(step.getId(), auditOutcome);
        ctx.acceptedOutputs().put(step.getId(), accepted);

        double durationMs = (System.nanoTime() - started) / 1e6;
        metrics.step(step.getWorkerType(), escalated, Duration.ofNanos(System.nanoTime() - started));
        LOG.infof("step %s (%s) done by %s in %.0f ms: confidence %.2f, audit %s/%s%s, %d failed attempts",
                step.getId(), step.getWorkerType(), executedBy, durationMs, confidence,
                auditOutcome.getDecision(), auditOutcome.getReason(), escalated ? ", escalated" : "",
                failedAttempts.size());
        return new StepOutcome(StepResult.newBuilder().setStepId(step.getId())
                .setWorkerType(step.getWorkerType()).setExecutedBy(executedBy)
                .setConfidence(confidence).setRawConfidence(result.getRawConfidence())
                .setAudit(auditOutcome).setEscalated(escalated).setOutput(accepted)
                .setRouting(dispatched.getDecision().getExplanation()).addAllFailedAttempts(failedAttempts)
                .setCostUsd(cost).setDurationMs(durationMs).setWorkerMs(workerMs)
                .setBatchDiscountUsd(batchDiscount).build(),
                dispatched.getOracleBaselineUsd(), dispatched.getDecision().getEarningTrust()
                        ? Math.max(0, cost - dispatched.getOracleBaselineUsd()) : 0);
    }

    /**
     * The router's calibrated confidence of the dispatched output; a router of the first v1 sent it in the
     * result's (since deprecated) confidence field.
     */
    @SuppressWarnings("deprecation")
    static double calibratedConfidence(DispatchResponse dispatched) {
        return dispatched.hasCalibratedConfidence() ? dispatched.getCalibratedConfidence()
                : dispatched.getResult().getConfidence();
    }

    /** True when the model that produced the output is of the oracle tier (per the router's decisions). */
    static boolean oracleTier(DispatchResponse dispatched, String modelId) {
        for (var c : dispatched.getDecision().getCandidatesList()) {
            if (c.getModelId().equals(modelId)) {
                return c.getTier() == Tier.TIER_ORACLE;
            }
        }
        for (var d : dispatched.getCascadeDecisionsList()) {
            for (var c : d.getCandidatesList()) {
                if (c.getModelId().equals(modelId)) {
                    return c.getTier() == Tier.TIER_ORACLE;
                }
            }
        }
        return false;
    }

    private DispatchResponse dispatchOnOracleTier(PlanStep step, DispatchRequest original, List<String> exclude,
                                                  StepContext ctx, String why) {
        var request = original.toBuilder()
                .setRequirements(original.getRequirements().toBuilder().setMinTier(Tier.TIER_ORACLE)
                        .setBudgetUsd(ctx.remainingBudgetUsd()))
                .addAllExcludeModels(exclude).setIdempotencyKey(ctx.callKey(step.getId(), "escalate")).build();
        try {
            return router.dispatch(request, ctx.deadline());
        } catch (RuntimeException e) {
            var status = statusOf(e);
            throw failure(step, status, why + ", and the escalation to the oracle tier failed too: "
                    + describe(status));
        }
    }

    /**
     * The step's inputs with {{inputs.NAME}} and {{steps.ID.output}} replaced by their values; refused
     * (INVALID_ARGUMENT, not escalated) when that would make them longer than {@code maxChars} together, before any
     * of it is built.
     */
    static Map<String, String> resolveInputs(PlanStep step, StepContext ctx, int maxChars) {
        long size = 0;
        for (var value : step.getInputsMap().values()) {
            Matcher m = PlanValidator.REFERENCE.matcher(value);
            size += value.length();
            while (m.find()) {
                size += referenced(m, ctx).length() - (m.end() - m.start());
            }
        }
        if (size > maxChars) {
            throw failure(step, Status.INVALID_ARGUMENT, String.format(Locale.ROOT, "its inputs would have %d "
                    + "characters with their references substituted, more than the %d accepted "
                    + "(tandem.oracle.limits.max-step-input-chars)", size, maxChars));
        }
        var resolved = new LinkedHashMap<String, String>();
        for (var input : step.getInputsMap().entrySet()) {
            Matcher m = PlanValidator.REFERENCE.matcher(input.getValue());
            var out = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(out, Matcher.quoteReplacement(referenced(m, ctx)));
            }
            m.appendTail(out);
            resolved.put(input.getKey(), out.toString());
        }
        return resolved;
    }

    /** What a reference stands for: a request input, an accepted step output, or itself when it is neither. */
    private static String referenced(Matcher reference, StepContext ctx) {
        var ref = PlanValidator.referenceName(reference);
        if (ref.startsWith("inputs.")) {
            return ctx.requestInputs().getOrDefault(ref.substring("inputs.".length()), "");
        }
        if (ref.startsWith("steps.") && ref.endsWith(".output")) {
            return ctx.acceptedOutputs().getOrDefault(
                    ref.substring("steps.".length(), ref.length() - ".output".length()), "");
        }
        return reference.group(); // the validator rejects these; leave untouched
    }

    private static AuditOutcome.Builder auditOutcome(DecideResponse d) {
        var review = d.getAction() == AuditAction.AUDIT_ACTION_REVIEW;
        var reason = AuditGateway.isFailSafe(d) ? AuditGateway.AUDIT_UNAVAILABLE
                : d.getReason().name().replace("AUDIT_REASON_", "").toLowerCase(Locale.ROOT);
        return AuditOutcome.newBuilder().setDecision(review ? "review" : "pass").setReason(reason)
                .setSamplingProbability(d.getSamplingProbability())
                .setTrustState(d.getState().name().replace("TRUST_STATE_", "").toLowerCase(Locale.ROOT));
    }

    private static List<String> failed(List<Attempt> attempts) {
        var out = new ArrayList<String>();
        for (var a : attempts) {
            if (a.getOutcome() != AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED) {
                out.add(executedBy(a.getModelId(), a.getPoolId()) + ": "
                        + a.getOutcome().name().replace("ATTEMPT_OUTCOME_", "").toLowerCase(Locale.ROOT)
                        + (a.getError().isEmpty() ? "" : ": " + a.getError()));
            }
        }
        return out;
    }

    private static String executedBy(String model, String pool) {
        return pool == null || pool.isEmpty() ? model : model + "@" + pool;
    }

    /** Failures that are the caller's (bad request, out of time, cancelled) are not worth an oracle retry. */
    private static boolean escalatable(Status status, StepContext ctx) {
        if (ctx.deadline() != null && ctx.deadline().isExpired()) {
            return false;
        }
        return switch (status.getCode()) {
            case INVALID_ARGUMENT, DEADLINE_EXCEEDED, CANCELLED, PERMISSION_DENIED, UNAUTHENTICATED -> false;
            default -> true;
        };
    }

    static Status statusOf(Throwable e) {
        if (e instanceof StatusRuntimeException sre) {
            return sre.getStatus();
        }
        if (e instanceof CircuitBreakerOpenException) {
            return Status.UNAVAILABLE.withDescription("router circuit breaker open").withCause(e);
        }
        return Status.fromThrowable(e);
    }

    private static String describe(Status status) {
        return status.getCode() + (status.getDescription() == null ? "" : " " + status.getDescription());
    }

    private static StatusRuntimeException failure(PlanStep step, Status status, String detail) {
        var code = status.getCode() == Status.Code.OK || status.getCode() == Status.Code.UNKNOWN
                ? Status.Code.INTERNAL : status.getCode();
        return Status.fromCode(code).withDescription("step '" + step.getId() + "' (" + step.getWorkerType()
                + ") failed: " + detail).asRuntimeException();
    }
}
