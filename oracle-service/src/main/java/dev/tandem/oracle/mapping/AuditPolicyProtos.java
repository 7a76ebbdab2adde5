package dev.tandem.oracle.mapping;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

import dev.tandem.audit.policy.DecisionPolicy;
import dev.tandem.audit.policy.PolicyDecision;
import dev.tandem.audit.policy.PolicyState;
import dev.tandem.calibration.CalibrationMap;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditReason;
import dev.tandem.proto.audit.v1.Calibration;
import dev.tandem.proto.audit.v1.CalibrationKnot;
import dev.tandem.proto.audit.v1.ReviewMode;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamPolicy;
import dev.tandem.proto.audit.v1.TrustState;

/**
 * A published policy ({@code tandem.audit.v1.StreamPolicy}) as the shared decision rule reads it, and the rule's
 * decisions as the audit contract names them. Every number is taken as published (no clamping), so the oracle
 * decides on exactly the policy the audit service decides on.
 */
public final class AuditPolicyProtos {

    private AuditPolicyProtos() {
    }

    /** The policy a published StreamPolicy describes; knots taken as published (no clamping: the same numbers). */
    public static DecisionPolicy fromProto(StreamPolicy p) {
        return new DecisionPolicy(name(p.getStream()), p.getPolicyVersion(), state(p.getState()),
                p.getRawConfidenceThreshold(), p.getThresholdCertified(), p.getConfidenceThreshold(),
                p.getSamplingRate(), p.getBlockingRate(), p.hasCalibration() ? map(p.getCalibration()) : null,
                p.getCredibleLevel(), p.getProbationErrorTarget(), p.getOutgoingErrorTarget());
    }

    /** How the audit service names a stream in explanations: backend/type, then @tenant for a tenant's own. */
    public static String name(StreamKey key) {
        return key.getWorkerBackend() + "/" + key.getWorkerType()
                + (key.getTenant().isEmpty() ? "" : "@" + key.getTenant());
    }

    /**
     * The stream an output belongs to: its tenant's own when that tenant has streams ("*": every tenant), else the
     * shared one (tenant "").
     */
    public static StreamKey streamOf(StreamKey requested, List<String> tenantStreams) {
        boolean separate = !requested.getTenant().isEmpty()
                && (tenantStreams.contains("*") || tenantStreams.contains(requested.getTenant()));
        return separate ? requested : requested.toBuilder().setTenant("").build();
    }

    public static AuditAction action(PolicyDecision d) {
        return d.review() ? AuditAction.AUDIT_ACTION_REVIEW : AuditAction.AUDIT_ACTION_PASS;
    }

    public static AuditReason reason(PolicyDecision d) {
        return AuditReason.valueOf("AUDIT_REASON_" + d.reason().name());
    }

    public static ReviewMode mode(PolicyDecision d) {
        return d.mode() == PolicyDecision.Mode.NONE ? ReviewMode.REVIEW_MODE_UNSPECIFIED
                : ReviewMode.valueOf("REVIEW_MODE_" + d.mode().name());
    }

    public static TrustState toProto(PolicyState state) {
        return TrustState.valueOf("TRUST_STATE_" + state.name());
    }

    public static PolicyState state(TrustState state) {
        return switch (state) {
            case TRUST_STATE_NORMAL -> PolicyState.NORMAL;
            case TRUST_STATE_REDUCED -> PolicyState.REDUCED;
            case TRUST_STATE_TIGHTENED -> PolicyState.TIGHTENED;
            case TRUST_STATE_SUSPENDED -> PolicyState.SUSPENDED;
            // probation, and anything a newer server might send: every output reviewed is never looser
            default -> PolicyState.PROBATION;
        };
    }

    static CalibrationMap map(Calibration c) {
        if (c.getKnotsCount() == 0) {
            return null;
        }
        double[] raw = new double[c.getKnotsCount()];
        double[] calibrated = new double[c.getKnotsCount()];
        for (int i = 0; i < raw.length; i++) {
            CalibrationKnot k = c.getKnots(i);
            raw[i] = k.getRaw();
            calibrated[i] = k.getCalibrated();
        }
        Instant fittedAt = c.hasFittedAt()
                ? Instant.ofEpochSecond(c.getFittedAt().getSeconds(), c.getFittedAt().getNanos()) : null;
        return new CalibrationMap(c.getMethod().name().replace("CALIBRATION_METHOD_", "").toLowerCase(Locale.ROOT),
                raw, calibrated, c.getSamples(), c.getEceRaw(), c.getEceCalibrated(), c.getBrierRaw(),
                c.getBrierCalibrated(), 0, fittedAt);
    }
}
