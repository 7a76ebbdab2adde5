package dev.tandem.audit.rest;

import java.time.Instant;

import dev.tandem.audit.DecisionEntry;

/** A ledger entry as the admin API shows it; verdict fields are null until reviewed. */
public record DecisionView(
        String decisionId,
        String taskId,
        String stepId,
        String workerBackend,
        String workerType,
        String tenant,
        double confidence,
        double rawConfidence,
        boolean validationPassed,
        String action,
        String reason,
        String mode,
        double samplingProbability,
        double confidenceThreshold,
        String state,
        String explanation,
        double calibratedConfidence,
        double rawConfidenceThreshold,
        boolean thresholdCertified,
        double blockingProbability,
        boolean certificationSample,
        Instant decidedAt,
        String verdict,
        String reviewer,
        String verdictReason,
        Instant verdictRecordedAt) {

    static DecisionView of(DecisionEntry e) {
        var r = e.request();
        var d = e.decision();
        return new DecisionView(r.decisionId(), r.taskId(), r.stepId(), r.stream().workerBackend(),
                r.stream().workerType(), e.tenant(), r.confidence(), r.rawConfidence(),
                r.validationPassed(), d.action().name(), d.reason().name(), d.mode().name(),
                d.samplingProbability(), d.confidenceThreshold(), d.state().name(), d.explanation(),
                d.calibratedConfidence(), d.rawThreshold(), d.thresholdCertified(), d.blockingProbability(),
                d.certificationSample(), e.decidedAt(),
                e.verdict() == null ? null : e.verdict().name(), e.reviewer(), e.verdictReason(),
                e.verdictRecordedAt());
    }
}
