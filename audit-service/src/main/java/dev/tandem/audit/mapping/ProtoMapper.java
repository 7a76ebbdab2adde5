package dev.tandem.audit.mapping;

import java.time.Instant;
import java.util.List;

import com.google.protobuf.Timestamp;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.ReviewTask;
import dev.tandem.audit.StateChange;
import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.LocalDecision;
import dev.tandem.audit.policy.DecisionPolicy;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.audit.service.InvalidAuditRequestException;
import dev.tandem.audit.service.RequestValidation;
import dev.tandem.calibration.CalibrationMap;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.proto.audit.v1.Calibration;
import dev.tandem.proto.audit.v1.CalibrationKnot;
import dev.tandem.proto.audit.v1.CalibrationMethod;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.StateChangeRecord;
import dev.tandem.proto.audit.v1.SubmitReviewRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.DecisionRecord;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.worker.v1.LatencyClass;

/**
 * Between the tandem.audit.v1 messages and the domain records. A request's stream is its {@code stream} key when
 * set, else the three deprecated fields of the first v1; every answer carries both.
 */
@SuppressWarnings("deprecation") // the first v1's stream fields are read and written for its clients
public final class ProtoMapper {

    private ProtoMapper() {
    }

    /** The stream a request names: its key when set, else the three fields of the first v1. */
    public static StreamKey stream(boolean hasKey, dev.tandem.proto.audit.v1.StreamKey key, String workerBackend,
                                   String workerType, String tenant) {
        return hasKey ? new StreamKey(key.getWorkerBackend(), key.getWorkerType(), key.getTenant())
                : new StreamKey(workerBackend, workerType, tenant);
    }

    public static dev.tandem.proto.audit.v1.OnboardingOutlook toProto(
            dev.tandem.audit.service.OnboardingOutlook o) {
        return dev.tandem.proto.audit.v1.OnboardingOutlook.newBuilder().setKey(toProto(o.key()))
                .setSource(o.evidence().source()).setItems(o.evidence().items())
                .setRejected(o.evidence().rejected()).setPriorWeight(o.weight())
                .setProductionReviewed(o.productionReviewed()).setProductionRejected(o.productionRejected())
                .setErrorRate(o.errorRate()).setTargetErrorRate(o.targetErrorRate())
                .setProjectedReviewProbability(o.projectedReviewProbability())
                .setThresholdPassShare(o.thresholdPassShare()).setThreshold(o.threshold()).build();
    }

    public static dev.tandem.proto.audit.v1.StreamKey toProto(StreamKey key) {
        return dev.tandem.proto.audit.v1.StreamKey.newBuilder().setWorkerBackend(key.workerBackend())
                .setWorkerType(key.workerType()).setTenant(key.tenant()).build();
    }

    public static DecisionRequest toDomain(DecideRequest r) {
        return new DecisionRequest(r.getDecisionId(), r.getTaskId(), r.getStepId(),
                stream(r.hasStream(), r.getStream(), r.getWorkerBackend(), r.getWorkerType(), r.getTenant()),
                r.hasConfidence() ? Double.valueOf(r.getConfidence()) : null, r.getRawConfidence(),
                r.getValidationPassed(), r.getInputsMap(), r.getCandidateOutput(), r.getInstructions(),
                r.getLatencyClass() == LatencyClass.LATENCY_CLASS_BATCH,
                r.hasBatchDeadline() ? toInstant("batch_deadline", r.getBatchDeadline()) : null);
    }

    /** A decision taken under a published policy; an unset action maps to null (refused by validation). */
    public static LocalDecision toDomain(dev.tandem.proto.audit.v1.LocalDecision l) {
        AuditAction action = switch (l.getAction()) {
            case AUDIT_ACTION_PASS -> AuditAction.PASS;
            case AUDIT_ACTION_REVIEW -> AuditAction.REVIEW;
            default -> null;
        };
        AuditReason reason = switch (l.getReason()) {
            case AUDIT_REASON_UNSPECIFIED, UNRECOGNIZED -> null;
            default -> AuditReason.valueOf(l.getReason().name().substring("AUDIT_REASON_".length()));
        };
        ReviewMode mode = switch (l.getMode()) {
            case REVIEW_MODE_BLOCKING -> ReviewMode.BLOCKING;
            case REVIEW_MODE_SHADOW -> ReviewMode.SHADOW;
            default -> ReviewMode.NONE;
        };
        return new LocalDecision(toDomain(l.getRequest()), l.getPolicyVersion(), l.getDraw(), action, reason, mode);
    }

    /** An unset or unknown verdict maps to null (refused by validation). */
    public static VerdictRequest toDomain(RecordVerdictRequest r) {
        Verdict verdict = switch (r.getVerdict()) {
            case VERDICT_ACCEPTED -> Verdict.ACCEPTED;
            case VERDICT_REJECTED -> Verdict.REJECTED;
            default -> null;
        };
        return new VerdictRequest(r.getDecisionId(), verdict, r.getReviewer(), r.getReason(), r.getReviewerOutput());
    }

    public static VerdictRequest toDomain(SubmitReviewRequest r) {
        Verdict verdict = switch (r.getVerdict()) {
            case VERDICT_ACCEPTED -> Verdict.ACCEPTED;
            case VERDICT_REJECTED -> Verdict.REJECTED;
            default -> null;
        };
        return new VerdictRequest(r.getDecisionId(), verdict, r.getReviewer(), r.getReason(), r.getReviewerOutput());
    }

    /** Unspecified maps to null (every queue, or the human queue for a claim); a value this v1 lacks is refused. */
    public static ReviewQueue toDomain(dev.tandem.proto.audit.v1.ReviewQueue q) {
        return switch (q) {
            case REVIEW_QUEUE_MODEL -> ReviewQueue.MODEL;
            case REVIEW_QUEUE_HUMAN -> ReviewQueue.HUMAN;
            case REVIEW_QUEUE_UNSPECIFIED -> null;
            case UNRECOGNIZED -> throw new InvalidAuditRequestException(List.of(new FieldViolation("queue",
                    "must be REVIEW_QUEUE_MODEL, REVIEW_QUEUE_HUMAN or unspecified")));
        };
    }

    public static dev.tandem.proto.audit.v1.ReviewQueue toProto(ReviewQueue q) {
        return q == ReviewQueue.MODEL ? dev.tandem.proto.audit.v1.ReviewQueue.REVIEW_QUEUE_MODEL
                : dev.tandem.proto.audit.v1.ReviewQueue.REVIEW_QUEUE_HUMAN;
    }

    public static dev.tandem.proto.audit.v1.ReviewTask toProto(ReviewTask t) {
        DecisionRequest r = t.entry().request();
        var b = dev.tandem.proto.audit.v1.ReviewTask.newBuilder()
                .setDecisionId(r.decisionId())
                .setQueue(toProto(t.queue()))
                .setTaskId(r.taskId())
                .setStepId(r.stepId())
                .setWorkerBackend(r.stream().workerBackend())
                .setWorkerType(r.stream().workerType())
                .setTenant(t.entry().tenant())
                .setStream(toProto(new StreamKey(r.stream().workerBackend(), r.stream().workerType(),
                        t.entry().tenant())))
                .putAllInputs(r.inputs())
                .setCandidateOutput(r.candidateOutput())
                .setInstructions(r.instructions())
                .setConfidence(r.confidence())
                .setReason(toProto(t.entry().decision().reason()))
                .setEnqueuedAt(toProto(t.enqueuedAt()))
                .setAttempts(t.attempts())
                .setLastError(t.lastError() == null ? "" : t.lastError());
        if (t.claimedBy() != null) {
            b.setClaimedBy(t.claimedBy()).setClaimToken(t.claimToken()).setLeaseExpiresAt(toProto(t.leaseUntil()));
        }
        return b.build();
    }

    public static StateChangeRecord toProto(StateChange c) {
        var b = StateChangeRecord.newBuilder()
                .setWorkerBackend(c.stream().workerBackend())
                .setWorkerType(c.stream().workerType())
                .setTenant(c.stream().tenant())
                .setStream(toProto(c.stream()))
                .setTo(toProto(c.to()))
                .setReason(c.reason())
                .setDecisionId(c.decisionId() == null ? "" : c.decisionId())
                .setChangedAt(toProto(c.changedAt()));
        if (c.from() != null) {
            b.setFrom(toProto(c.from()));
        }
        return b.build();
    }

    public static Calibration toProto(CalibrationMap m) {
        Calibration.Builder b = Calibration.newBuilder()
                .setMethod("PLATT".equals(m.method()) ? CalibrationMethod.CALIBRATION_METHOD_PLATT
                        : CalibrationMethod.CALIBRATION_METHOD_ISOTONIC)
                .setSamples(m.samples())
                .setEceRaw(m.eceRaw())
                .setEceCalibrated(m.eceCalibrated())
                .setBrierRaw(m.brierRaw())
                .setBrierCalibrated(m.brierCalibrated())
                .setFittedAt(toProto(m.fittedAt()));
        for (int i = 0; i < m.raw().length; i++) {
            b.addKnots(CalibrationKnot.newBuilder().setRaw(m.raw()[i]).setCalibrated(m.calibrated()[i]));
        }
        return b.build();
    }

    public static DecideResponse toProto(String decisionId, Decision d, boolean replayed) {
        return DecideResponse.newBuilder()
                .setDecisionId(decisionId)
                .setAction(toProto(d.action()))
                .setReason(toProto(d.reason()))
                .setMode(toProto(d.mode()))
                .setSamplingProbability(d.samplingProbability())
                .setConfidenceThreshold(d.confidenceThreshold())
                .setState(toProto(d.state()))
                .setExplanation(d.explanation())
                .setReplayed(replayed)
                .setCalibratedConfidence(d.calibratedConfidence())
                .setRawConfidenceThreshold(d.rawThreshold())
                .setThresholdCertified(d.thresholdCertified())
                .build();
    }

    /** The published form of a stream's policy (GetPolicies): what the shared decision rule reads of it. */
    public static dev.tandem.proto.audit.v1.StreamPolicy toProto(StreamRecord s, DecisionPolicy p) {
        dev.tandem.proto.audit.v1.StreamPolicy.Builder b = dev.tandem.proto.audit.v1.StreamPolicy.newBuilder()
                .setStream(toProto(s.key())).setPolicyVersion(p.version()).setState(toProto(s.state()))
                .setRawConfidenceThreshold(p.rawThreshold()).setThresholdCertified(p.thresholdCertified())
                .setConfidenceThreshold(p.confidenceThreshold()).setSamplingRate(p.samplingRate())
                .setBlockingRate(p.blockingRate()).setCredibleLevel(p.credibleLevel())
                .setProbationErrorTarget(p.probationErrorTarget()).setOutgoingErrorTarget(p.outgoingErrorTarget());
        if (p.calibration() != null) {
            b.setCalibration(toProto(p.calibration()));
        }
        return b.build();
    }

    public static StreamStatus toProto(StreamRecord s) {
        return toProto(s, 0, 0);
    }

    public static StreamStatus toProto(StreamRecord s, long pendingReviews, double targetErrorRate) {
        StreamStatus.Builder b = StreamStatus.newBuilder()
                .setWorkerBackend(s.key().workerBackend())
                .setWorkerType(s.key().workerType())
                .setTenant(s.key().tenant())
                .setKey(toProto(s.key()))
                .setState(toProto(s.state()))
                .setDecided(s.decided())
                .setReviewed(s.reviewed())
                .setRejected(s.rejected())
                .setConsecutiveAccepted(s.consecutiveAccepted())
                .setSamplingRate(s.samplingRate())
                .setConfidenceThreshold(s.confidenceThreshold())
                .setErrorRateUpperBound(s.errorRateUpperBound())
                .setStateSince(toProto(s.stateSince()))
                .setReviewRate(s.reviewRate())
                .setOutgoingErrorRate(s.outgoingErrorRate())
                .setOutgoingErrorLowerBound(s.outgoingErrorLower())
                .setOutgoingErrorUpperBound(s.outgoingErrorUpper())
                .setErrorRate(s.errorRate())
                .setTargetErrorRate(targetErrorRate)
                .setRawConfidenceThreshold(s.rawThreshold())
                .setThresholdCertified(s.thresholdCertified())
                .setBlockingSampleRate(s.blockingRate())
                .setDriftAlarms(s.driftAlarms())
                .setOutcomeCusum(s.outcomeCusum())
                .setConfidenceCusum(s.confidenceCusum())
                .setPendingReviews(pendingReviews)
                .setWindowDecided(s.windowDecided());
        if (s.calibration() != null) {
            b.setCalibration(toProto(s.calibration()));
        }
        return b.build();
    }

    public static DecisionRecord toProto(DecisionEntry e) {
        DecisionRequest r = e.request();
        Decision d = e.decision();
        DecisionRecord.Builder b = DecisionRecord.newBuilder()
                .setDecisionId(r.decisionId())
                .setTaskId(r.taskId())
                .setStepId(r.stepId())
                .setWorkerBackend(r.stream().workerBackend())
                .setWorkerType(r.stream().workerType())
                .setTenant(r.stream().tenant())
                .setStream(toProto(r.stream()))
                .setConfidence(r.confidence())
                .setAction(toProto(d.action()))
                .setReason(toProto(d.reason()))
                .setSamplingProbability(d.samplingProbability())
                .setState(toProto(d.state()))
                .setMode(toProto(d.mode()))
                .setDecidedAt(toProto(e.decidedAt()))
                .setRawConfidence(r.rawConfidence())
                .setExplanation(d.explanation())
                .setCertificationSample(d.certificationSample());
        b.setTenant(e.tenant() == null ? r.stream().tenant() : e.tenant());
        if (e.verdict() != null) {
            b.setVerdict(toProto(e.verdict()));
            b.setReviewer(e.reviewer() == null ? "" : e.reviewer());
            b.setVerdictReason(e.verdictReason() == null ? "" : e.verdictReason());
            b.setReviewedAt(toProto(e.verdictRecordedAt()));
        }
        return b.build();
    }

    /** A caller's time; one outside google.protobuf.Timestamp's range is refused, naming {@code field}. */
    public static Instant toInstant(String field, Timestamp t) {
        return RequestValidation.instant(field, t.getSeconds(), t.getNanos());
    }

    public static Timestamp toProto(Instant instant) {
        if (instant == null) {
            return Timestamp.getDefaultInstance();
        }
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    public static dev.tandem.proto.audit.v1.TrustState toProto(TrustState s) {
        return dev.tandem.proto.audit.v1.TrustState.forNumber(s.number());
    }

    public static dev.tandem.proto.audit.v1.AuditAction toProto(AuditAction a) {
        return switch (a) {
            case PASS -> dev.tandem.proto.audit.v1.AuditAction.AUDIT_ACTION_PASS;
            case REVIEW -> dev.tandem.proto.audit.v1.AuditAction.AUDIT_ACTION_REVIEW;
        };
    }

    public static dev.tandem.proto.audit.v1.AuditReason toProto(AuditReason r) {
        return switch (r) {
            case TRUSTED -> dev.tandem.proto.audit.v1.AuditReason.AUDIT_REASON_TRUSTED;
            case PROBATION -> dev.tandem.proto.audit.v1.AuditReason.AUDIT_REASON_PROBATION;
            case LOW_CONFIDENCE -> dev.tandem.proto.audit.v1.AuditReason.AUDIT_REASON_LOW_CONFIDENCE;
            case RANDOM_SAMPLE -> dev.tandem.proto.audit.v1.AuditReason.AUDIT_REASON_RANDOM_SAMPLE;
            case TIGHTENED -> dev.tandem.proto.audit.v1.AuditReason.AUDIT_REASON_TIGHTENED;
            case VALIDATION_FAILED -> dev.tandem.proto.audit.v1.AuditReason.AUDIT_REASON_VALIDATION_FAILED;
            case OUTGOING_LIMIT -> dev.tandem.proto.audit.v1.AuditReason.AUDIT_REASON_OUTGOING_LIMIT;
        };
    }

    public static dev.tandem.proto.audit.v1.ReviewMode toProto(ReviewMode m) {
        return switch (m) {
            case NONE -> dev.tandem.proto.audit.v1.ReviewMode.REVIEW_MODE_UNSPECIFIED;
            case BLOCKING -> dev.tandem.proto.audit.v1.ReviewMode.REVIEW_MODE_BLOCKING;
            case SHADOW -> dev.tandem.proto.audit.v1.ReviewMode.REVIEW_MODE_SHADOW;
        };
    }

    public static dev.tandem.proto.audit.v1.Verdict toProto(Verdict v) {
        return switch (v) {
            case ACCEPTED -> dev.tandem.proto.audit.v1.Verdict.VERDICT_ACCEPTED;
            case REJECTED -> dev.tandem.proto.audit.v1.Verdict.VERDICT_REJECTED;
        };
    }
}
