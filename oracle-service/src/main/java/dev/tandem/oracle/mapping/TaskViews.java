package dev.tandem.oracle.mapping;

import dev.tandem.oracle.repository.TaskRecord;
import dev.tandem.proto.oracle.v1.AuditOutcome;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.StepResult;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** JSON views of tasks for the admin endpoints (the proto messages are not Jackson beans). */
public final class TaskViews {

    private TaskViews() {
    }

    public record TaskSummary(String taskId, String task, String tenant, String status, String pipeline,
                              Instant startedAt, Instant finishedAt, Double actualUsd, Double allOracleUsd,
                              String error) {
    }

    public record TaskDetail(String taskId, String task, String tenant, String status, Instant startedAt,
                             Instant finishedAt, String error, PlanView plan, List<StepView> steps, String output,
                             CostView cost) {
    }

    public record PlanView(String pipeline, String planner, String rationale, List<PlanStepView> steps) {
    }

    public record PlanStepView(String id, String workerType, Map<String, String> inputs, List<String> dependsOn) {
    }

    public record StepView(String stepId, String workerType, String executedBy, double confidence,
                           double rawConfidence, AuditView audit, boolean escalated, String output, String routing,
                           List<String> failedAttempts, double costUsd, double durationMs) {
    }

    public record AuditView(String decision, String reason, String verdict, String verdictReason,
                            double samplingProbability, String trustState, String mode) {
    }

    public record CostView(double actualUsd, double allOracleUsd, double savingsFraction) {
    }

    public static TaskSummary summary(TaskRecord r) {
        var response = r.response();
        return new TaskSummary(r.taskId(), r.task(), r.tenant(), r.status().name().toLowerCase(),
                response == null ? null : response.getPlan().getPipeline(), r.startedAt(), r.finishedAt(),
                response == null ? null : response.getCost().getActualUsd(),
                response == null ? null : response.getCost().getAllOracleUsd(), r.error());
    }

    public static TaskDetail detail(TaskRecord r) {
        var response = r.response();
        if (response == null) {
            return new TaskDetail(r.taskId(), r.task(), r.tenant(), r.status().name().toLowerCase(), r.startedAt(),
                    r.finishedAt(), r.error(), null, List.of(), null, null);
        }
        var c = response.getCost();
        return new TaskDetail(r.taskId(), r.task(), r.tenant(), r.status().name().toLowerCase(), r.startedAt(),
                r.finishedAt(), r.error(), plan(response.getPlan()),
                response.getStepsList().stream().map(TaskViews::step).toList(), response.getOutput(),
                new CostView(c.getActualUsd(), c.getAllOracleUsd(), c.getSavingsFraction()));
    }

    public static PlanView plan(Plan p) {
        return new PlanView(p.getPipeline(), p.getPlanner(), p.getRationale(), p.getStepsList().stream()
                .map(s -> new PlanStepView(s.getId(), s.getWorkerType(), new TreeMap<>(s.getInputsMap()),
                        s.getDependsOnList()))
                .toList());
    }

    private static StepView step(StepResult s) {
        AuditOutcome a = s.getAudit();
        return new StepView(s.getStepId(), s.getWorkerType(), s.getExecutedBy(), s.getConfidence(),
                s.getRawConfidence(), new AuditView(a.getDecision(), a.getReason(), a.getVerdict(),
                a.getVerdictReason(), a.getSamplingProbability(), a.getTrustState(), a.getMode()),
                s.getEscalated(), s.getOutput(), s.getRouting(), s.getFailedAttemptsList(), s.getCostUsd(),
                s.getDurationMs());
    }
}
