package dev.tandem.oracle.service;

import com.google.protobuf.Timestamp;
import dev.tandem.proto.worker.v1.LatencyClass;
import io.grpc.Deadline;

import java.time.Instant;
import java.util.Optional;

import java.util.Map;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * What every step of one task shares: ids, the request's inputs, the accepted outputs so far (written by a step
 * when it completes, read by its dependents after), the client's deadline, the budget and the event stream.
 *
 * @param maxErrorRate  outgoing error rate the task's steps may have after auditing, 0 for the configured targets
 * @param deferred      where steps put the decisions they took locally, to be recorded in one batch before the answer;
 *                      null: every decision is taken by the audit service as the step runs (a journaled task, whose
 *                      completed steps must not depend on decisions a restart would lose)
 * @param latencyClass  the task's latency class, passed to every dispatch and review
 * @param batchDeadline for a BATCH-class task, when its batch window ends; null otherwise
 * @param keyedCalls    the router calls carry idempotency keys ({@link #callKey}): a submitted task, which a resumed
 *                      run repeats, so that the router answers a repeat without executing (and billing) it again
 */
public record StepContext(String taskId, String tenant, Map<String, String> requestInputs,
                          Map<String, String> acceptedOutputs, Deadline deadline, double budgetUsd,
                          DoubleAdder spentUsd, TaskEvents events, double maxErrorRate, DeferredAudits deferred,
                          LatencyClass latencyClass, Instant batchDeadline, boolean keyedCalls) {

    public StepContext {
        latencyClass = latencyClass == null ? LatencyClass.LATENCY_CLASS_UNSPECIFIED : latencyClass;
    }

    public StepContext(String taskId, String tenant, Map<String, String> requestInputs,
                       Map<String, String> acceptedOutputs, Deadline deadline, double budgetUsd, DoubleAdder spentUsd,
                       TaskEvents events, double maxErrorRate) {
        this(taskId, tenant, requestInputs, acceptedOutputs, deadline, budgetUsd, spentUsd, events, maxErrorRate,
                null, null, null, false);
    }

    public StepContext(String taskId, String tenant, Map<String, String> requestInputs,
                       Map<String, String> acceptedOutputs, Deadline deadline, double budgetUsd, DoubleAdder spentUsd,
                       TaskEvents events) {
        this(taskId, tenant, requestInputs, acceptedOutputs, deadline, budgetUsd, spentUsd, events, 0);
    }

    /**
     * The idempotency key of one of the step's router calls ("task/step/purpose", purpose execute, review or
     * escalate): the same in every run of the task, so the router joins or replays a call a killed run made. Empty
     * when the task's calls are not keyed.
     */
    public String callKey(String stepId, String purpose) {
        return keyedCalls ? taskId + "/" + stepId + "/" + purpose : "";
    }

    /** Whether the task is BATCH-class. */
    public boolean batch() {
        return latencyClass == LatencyClass.LATENCY_CLASS_BATCH;
    }

    /** The batch deadline as sent to the router; empty for a task that is not BATCH-class. */
    public Optional<Timestamp> batchDeadlineTimestamp() {
        return Optional.ofNullable(batchDeadline).map(d -> Timestamp.newBuilder().setSeconds(d.getEpochSecond())
                .setNanos(d.getNano()).build());
    }

    /** Budget left for the next step; 0 when the task has no budget. */
    public double remainingBudgetUsd() {
        if (budgetUsd <= 0) {
            return 0;
        }
        // 0 means "no budget" to the router, so an exhausted budget is sent as the smallest positive amount
        return Math.max(budgetUsd - spentUsd.sum(), Double.MIN_NORMAL);
    }
}
