package dev.tandem.router.learning;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.proto.audit.v1.OnboardingOutlook;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.TrustState;

/**
 * What the audit service will do with a model's next output for a worker type (and tenant): its review and
 * rejection probabilities, current and projected once trusted. Read on every routing decision to price a
 * candidate's expected reviews and escalations; replaced whole on every audit poll ({@link QualityLearning}).
 * <p>
 * A stream the audit service has not seen yet will start in probation (every output reviewed): {@link Outlook#NEW}.
 * Without an audit service nothing is reviewed: {@link Outlook#NOT_AUDITED}. A stream in probation, or not seen
 * yet, may carry its backend's onboarding evidence ({@link Onboarding}): what a golden set says it will cost once
 * trusted, before its production reviews can say it.
 */
@ApplicationScoped
public class StreamOutlooks {

    /**
     * One stream's outlook.
     *
     * @param state trust state, lower case ("probation", "normal", ...)
     * @param trusted true in normal and reduced
     * @param reviewProbability P(the next output is reviewed, blocking or shadow)
     * @param blockingProbability P(it is reviewed blocking: held, and escalated when rejected)
     * @param projectedReviewProbability P(review) once trusted at the stream's target (1 while not projected)
     * @param projectionSamples reviewed outputs behind the projection (0: none yet)
     * @param errorRate the audit's estimate of the stream's error rate over all outputs; NaN when unknown
     * @param targetErrorRate the outgoing error rate the audit certifies for the stream (0: unknown)
     * @param reviewed reviews of the stream so far
     * @param buildingUp a trusted stream whose blocking sample is still above its sampling rate: it has left
     *                   probation but production evidence has not yet bounded its passed outputs' error rate, so
     *                   part of what it passes is still reviewed blocking, less with every review
     * @param onboarding what the backend's onboarding evidence projects for the stream, combined with its
     *                   production reviews by the audit service; null when there is none or it no longer applies
     */
    public record Outlook(String state, boolean trusted, double reviewProbability, double blockingProbability,
                          double projectedReviewProbability, long projectionSamples, double errorRate,
                          double targetErrorRate, long reviewed, boolean buildingUp, Onboarding onboarding) {

        public Outlook(String state, boolean trusted, double reviewProbability, double blockingProbability,
                       double projectedReviewProbability, long projectionSamples, double errorRate,
                       double targetErrorRate, long reviewed, boolean buildingUp) {
            this(state, trusted, reviewProbability, blockingProbability, projectedReviewProbability,
                    projectionSamples, errorRate, targetErrorRate, reviewed, buildingUp, null);
        }

        public Outlook(String state, boolean trusted, double reviewProbability, double blockingProbability,
                       double projectedReviewProbability, long projectionSamples, double errorRate,
                       double targetErrorRate, long reviewed) {
            this(state, trusted, reviewProbability, blockingProbability, projectedReviewProbability,
                    projectionSamples, errorRate, targetErrorRate, reviewed, false);
        }

        /** A stream the audit service has not seen: it will be in probation. */
        public static final Outlook NEW = new Outlook("probation", false, 1, 1, 1, 0, Double.NaN, 0, 0);

        /** No audit service: outputs are not reviewed. */
        public static final Outlook NOT_AUDITED = new Outlook("not audited", true, 0, 0, 0, 0, Double.NaN, 0, 0);

        /**
         * True while the stream is still earning trust: every output reviewed (probation, tightened, suspended), or
         * trusted but building up (its blocking sample still shrinking with each review). Such a stream can cost
         * more than the oracle for now and less once its evidence is in: it gets steps within the exploration
         * budget, so it cannot stall between a clearance and the evidence that makes it cheap.
         */
        public boolean earningTrust() {
            return !trusted || buildingUp;
        }

        public Outlook withOnboarding(Onboarding evidence) {
            return new Outlook(state, trusted, reviewProbability, blockingProbability, projectedReviewProbability,
                    projectionSamples, errorRate, targetErrorRate, reviewed, buildingUp, evidence);
        }
    }

    /**
     * A backend's onboarding evidence as the audit service projects it for a stream ({@code OnboardingOutlook}):
     * a cost estimate that may retire the stream from exploration, never a quality certificate.
     *
     * @param source where the items came from, e.g. "golden-set"
     * @param items golden items judged
     * @param rejected golden items judged wrong
     * @param weight the evidence's weight in pseudo-reviews after the audit's discount
     * @param productionReviewed production reviews combined with it
     * @param productionRejected rejections among them
     * @param errorRate the combined error estimate
     * @param targetErrorRate A, the outgoing error rate the stream would be trusted at
     * @param projectedReviewProbability the review share once trusted at A with that error rate, or with the
     *                                   confidence threshold below where the items' confidences price one lower
     * @param thresholdPassShare the share of the items that threshold passes (0: none priced)
     * @param threshold the threshold on the worker's raw confidence
     */
    public record Onboarding(String source, long items, long rejected, double weight, long productionReviewed,
                             long productionRejected, double errorRate, double targetErrorRate,
                             double projectedReviewProbability, double thresholdPassShare, double threshold) {

        /** Evidence without a confidence threshold priced on it. */
        public Onboarding(String source, long items, long rejected, double weight, long productionReviewed,
                          long productionRejected, double errorRate, double targetErrorRate,
                          double projectedReviewProbability) {
            this(source, items, rejected, weight, productionReviewed, productionRejected, errorRate, targetErrorRate,
                    projectedReviewProbability, 0, 0);
        }

        /** The reviews, real and pseudo, the projection rests on. */
        public double evidence() {
            return weight + productionReviewed;
        }

        static Onboarding of(OnboardingOutlook o) {
            return new Onboarding(o.getSource(), o.getItems(), o.getRejected(), o.getPriorWeight(),
                    o.getProductionReviewed(), o.getProductionRejected(), unit(o.getErrorRate()),
                    o.getTargetErrorRate(), unit(o.getProjectedReviewProbability()), passShare(o.getThresholdPassShare()),
                    unit(o.getThreshold()));
        }
    }

    private volatile Map<String, Map<String, Outlook>> shared = Map.of();
    private volatile Map<String, Map<String, Map<String, Outlook>>> tenants = Map.of();
    private volatile Map<String, Map<String, Onboarding>> onboarded = Map.of();
    private volatile boolean audited;

    /** The outlook of (model, worker type) for the tenant: the tenant's stream, else the shared one, else NEW. */
    public Outlook get(String workerType, String modelId, String tenant) {
        if (!audited) {
            return Outlook.NOT_AUDITED;
        }
        if (tenant != null && !tenant.isEmpty()) {
            Map<String, Map<String, Outlook>> own = tenants.get(tenant);
            if (own != null) {
                Map<String, Outlook> byModel = own.get(workerType);
                Outlook o = byModel == null ? null : byModel.get(modelId);
                if (o != null) {
                    return o;
                }
            }
        }
        Map<String, Outlook> byModel = shared.get(workerType);
        Outlook o = byModel == null ? null : byModel.get(modelId);
        if (o != null) {
            return o;
        }
        Map<String, Onboarding> evidence = onboarded.get(workerType);
        Onboarding e = evidence == null ? null : evidence.get(modelId);
        return e == null ? Outlook.NEW : Outlook.NEW.withOnboarding(e);
    }

    /** True once an audit service is known to decide on outputs (streams listed at least once, or configured). */
    public boolean audited() {
        return audited;
    }

    /** Marks outputs as audited before the first poll answers (an audit client is configured). */
    public void expectAudit() {
        audited = true;
    }

    /** Replaces every outlook with the audit service's current streams. */
    public void replaceAll(List<StreamStatus> streams) {
        replaceAll(streams, List.of());
    }

    /**
     * Replaces every outlook with the audit service's current streams, and the onboarding evidence of the streams
     * it has not seen yet.
     */
    public void replaceAll(List<StreamStatus> streams, List<OnboardingOutlook> evidence) {
        Map<String, Map<String, Onboarding>> newOnboarded = new HashMap<>();
        for (OnboardingOutlook e : evidence) {
            newOnboarded.computeIfAbsent(e.getKey().getWorkerType(), w -> new HashMap<>())
                    .put(e.getKey().getWorkerBackend(), Onboarding.of(e));
        }
        onboarded = newOnboarded;
        Map<String, Map<String, Outlook>> newShared = new HashMap<>();
        Map<String, Map<String, Map<String, Outlook>>> newTenants = new HashMap<>();
        for (StreamStatus s : streams) {
            StreamKey key = AuditStreamKeys.of(s);
            Outlook o = of(s);
            Map<String, Map<String, Outlook>> target = key.getTenant().isEmpty() ? newShared
                    : newTenants.computeIfAbsent(key.getTenant(), t -> new HashMap<>());
            target.computeIfAbsent(key.getWorkerType(), w -> new HashMap<>()).put(key.getWorkerBackend(), o);
        }
        shared = newShared;
        tenants = newTenants;
        audited = true;
    }

    static Outlook of(StreamStatus s) {
        TrustState state = s.getState();
        boolean trusted = state == TrustState.TRUST_STATE_NORMAL || state == TrustState.TRUST_STATE_REDUCED;
        double review = trusted ? unit(s.getReviewProbability()) : 1.0;
        double blocking = trusted ? unit(s.getBlockingProbability()) : 1.0;
        double projected = s.getProjectedReviewProbability() > 0 ? unit(s.getProjectedReviewProbability()) : 1.0;
        // an estimate of 0 next to rejections means the audit service did not fit one yet
        double error = s.getReviewed() == 0 ? Double.NaN
                : s.getErrorRate() > 0 || s.getRejected() == 0 ? unit(s.getErrorRate())
                : (double) s.getRejected() / s.getReviewed();
        boolean buildingUp = trusted && s.getBlockingSampleRate() > s.getSamplingRate();
        String label = state.name().replace("TRUST_STATE_", "").toLowerCase(Locale.ROOT)
                + (buildingUp ? " (building up)" : "");
        return new Outlook(label, trusted, review, blocking, projected, s.getProjectionSamples(), error,
                s.getTargetErrorRate(), s.getReviewed(), buildingUp,
                s.hasOnboarding() ? Onboarding.of(s.getOnboarding()) : null);
    }

    /** A threshold's pass share; not a number reads as no threshold. */
    private static double passShare(double v) {
        return Double.isNaN(v) ? 0 : unit(v);
    }

    private static double unit(double v) {
        return Double.isNaN(v) ? 1.0 : Math.max(0, Math.min(1, v));
    }
}
