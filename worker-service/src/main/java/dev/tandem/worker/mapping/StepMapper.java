package dev.tandem.worker.mapping;

import dev.tandem.models.chat.CallDeadline;

import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.GateResult;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.proto.worker.v1.ValidationReport;
import dev.tandem.proto.worker.v1.WorkerTypeInfo;
import dev.tandem.proto.worker.v1.WorkflowPhase;
import dev.tandem.worker.service.ReviewCommand;
import dev.tandem.worker.service.ReviewOutcome;
import dev.tandem.worker.service.StepCommand;
import dev.tandem.worker.service.StepOutcome;
import dev.tandem.worker.service.WorkerType;

/** Between the worker's protobuf messages and its domain records. */
public final class StepMapper {

    private StepMapper() {
    }

    public static StepCommand toCommand(ExecuteStepRequest request, CallDeadline deadline) {
        return new StepCommand(request.getTaskId(), request.getStepId(), request.getWorkerType(),
                request.getInputsMap(), request.getModelId(), request.getInstructions(), request.getAttempt(),
                deadline, request.getIdempotencyKey());
    }

    public static ReviewCommand toCommand(ReviewStepRequest request, CallDeadline deadline) {
        return new ReviewCommand(request.getTaskId(), request.getStepId(), request.getWorkerType(),
                request.getInputsMap(), request.getCandidateOutput(), request.getCandidateModelId(),
                request.getModelId(), request.getInstructions(), deadline, request.getIdempotencyKey());
    }

    public static ExecuteStepResponse toResponse(StepOutcome outcome) {
        var validation = ValidationReport.newBuilder().setPassed(outcome.passed());
        outcome.gates().forEach(g -> validation.addGates(GateResult.newBuilder()
                .setName(g.name()).setPassed(g.passed()).setDetail(g.detail())));
        var response = ExecuteStepResponse.newBuilder()
                .setOutput(outcome.output())
                .setRawConfidence(outcome.rawConfidence())
                .setConfidenceMethod(outcome.confidenceMethod())
                .setValidation(validation)
                .setUsage(usage(outcome.usage()))
                .setLatencyMs(outcome.latencyMs())
                .setModelId(outcome.modelId())
                .setFromCheckpoint(outcome.fromCheckpoint());
        outcome.phases().forEach(p -> response.addPhases(WorkflowPhase.newBuilder()
                .setName(p.name()).setDurationMs(p.durationMs()).setDetail(p.detail())));
        return response.build();
    }

    public static ReviewStepResponse toResponse(ReviewOutcome outcome) {
        return ReviewStepResponse.newBuilder()
                .setVerdict(outcome.accepted() ? ReviewVerdict.REVIEW_VERDICT_ACCEPTED
                        : ReviewVerdict.REVIEW_VERDICT_REJECTED)
                .setReason(outcome.reason())
                .setReviewerOutput(outcome.reviewerOutput())
                .setConfidence(outcome.confidence())
                .setUsage(usage(outcome.usage()))
                .setLatencyMs(outcome.latencyMs())
                .setModelId(outcome.modelId())
                .build();
    }

    public static WorkerTypeInfo toInfo(WorkerType type) {
        return WorkerTypeInfo.newBuilder()
                .setName(type.name())
                .setDescription(type.description())
                .addAllRequiredInputs(type.requiredInputs())
                .addAllOptionalInputs(type.optionalInputs())
                .setOutputSchema(type.outputSchema().toString())
                .addAllRequiredCapabilities(type.requiredCapabilities())
                .setConfidenceMethod(type.confidenceMethod())
                .addAllGates(type.gates())
                .build();
    }

    static TokenUsage usage(dev.tandem.models.chat.TokenUsage usage) {
        var proto = TokenUsage.newBuilder().setInputTokens(usage.inputTokens()).setOutputTokens(usage.outputTokens())
                .setCachedInputTokens(usage.cachedInputTokens())
                .setCacheWriteInputTokens(usage.cacheWriteInputTokens())
                .setEstimated(usage.estimated());
        usage.reportedCost().ifPresent(proto::setReportedCostUsd);
        return proto.build();
    }
}
