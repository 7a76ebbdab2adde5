package dev.tandem.oracle.service;

import com.google.protobuf.Timestamp;
import dev.tandem.proto.oracle.v1.AnswerDelta;
import dev.tandem.proto.oracle.v1.AuditOutcome;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.PlanReady;
import dev.tandem.proto.oracle.v1.StepAudited;
import dev.tandem.proto.oracle.v1.StepEscalated;
import dev.tandem.proto.oracle.v1.StepRerun;
import dev.tandem.proto.oracle.v1.StepFinished;
import dev.tandem.proto.oracle.v1.StepStarted;
import dev.tandem.proto.oracle.v1.TaskDone;
import dev.tandem.proto.oracle.v1.TaskEvent;

import java.time.Instant;
import java.util.function.Consumer;

/**
 * The progress events of one task, numbered from 1 in the order they are emitted. Steps run on several threads,
 * so emission is serialised here: sequence order and delivery order are the same.
 */
public final class TaskEvents {

    private final String taskId;
    private final Consumer<TaskEvent> listener;
    private long sequence;

    public TaskEvents(String taskId, Consumer<TaskEvent> listener) {
        this(taskId, listener, 0);
    }

    /** Events that continue a stream whose last event had {@code lastSequence} (a resumed task's). */
    public TaskEvents(String taskId, Consumer<TaskEvent> listener, long lastSequence) {
        this.taskId = taskId;
        this.listener = listener;
        this.sequence = lastSequence;
    }

    /** Events of a task nobody streams. */
    public static TaskEvents discarded(String taskId) {
        return new TaskEvents(taskId, e -> { });
    }

    public void planReady(Plan plan) {
        emit(TaskEvent.newBuilder().setPlanReady(PlanReady.newBuilder().setPlan(plan)));
    }

    public void stepStarted(String stepId, String workerType) {
        emit(TaskEvent.newBuilder().setStepStarted(StepStarted.newBuilder().setStepId(stepId)
                .setWorkerType(workerType)));
    }

    public void stepFinished(StepFinished finished) {
        emit(TaskEvent.newBuilder().setStepFinished(finished));
    }

    public void stepAudited(String stepId, AuditOutcome audit) {
        emit(TaskEvent.newBuilder().setStepAudited(StepAudited.newBuilder().setStepId(stepId).setAudit(audit)));
    }

    public void stepEscalated(String stepId, String reason, String executedBy) {
        emit(TaskEvent.newBuilder().setStepEscalated(StepEscalated.newBuilder().setStepId(stepId)
                .setReason(reason).setExecutedBy(executedBy)));
    }

    public void stepRerun(String stepId, String rejectedStepId, String reason) {
        emit(TaskEvent.newBuilder().setStepRerun(StepRerun.newBuilder().setStepId(stepId)
                .setRejectedStepId(rejectedStepId).setReason(reason)));
    }

    public void answerDelta(String text) {
        if (!text.isEmpty()) {
            emit(TaskEvent.newBuilder().setAnswerDelta(AnswerDelta.newBuilder().setText(text)));
        }
    }

    public void taskDone(ExecuteResponse response) {
        emit(TaskEvent.newBuilder().setTaskDone(TaskDone.newBuilder().setResponse(response)));
    }

    private synchronized void emit(TaskEvent.Builder event) {
        var now = Instant.now();
        listener.accept(event.setTaskId(taskId).setSequence(++sequence)
                .setTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .build());
    }
}
