package dev.tandem.audit.service;

import java.util.Optional;

import dev.tandem.audit.OnboardingEvidence;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.config.AuditConfig;

/**
 * What a backend's onboarding evidence says a stream will cost in reviews once trusted, before production reviews
 * can say it: the figures a router needs to retire from exploration a stream that cannot pay off before paying for
 * its probation. A cost estimate, never a quality certificate: nothing here enters the clearance's bound beyond
 * {@link ClearancePrior}, the threshold certificate or the blocking sample.
 * <ul>
 * <li>error rate: the discounted evidence as w pseudo-reviews with the golden error rate, plus the stream's own
 * reviews in its state, (r_s + w·r_g/n_g) / (n_s + w); production takes over as its reviews outnumber w, and the
 * evidence is dropped altogether when production contradicts it either way: too many rejections (the prior's
 * conflict rule) or too few (a golden set that made the stream look worse than it is must not keep it out);</li>
 * <li>projected review probability at the target A: before a calibration shows that the stream's confidence
 * separates its errors, a stream whose error rate is above the probation clearance's trust target (2·A unless
 * fixed) never leaves probation on it, so every output stays reviewed: 1; otherwise, once trusted, the blocking
 * share that holds θ·(1 − b) ≤ A, b = 1 − A/θ (the audit's own rule before a threshold is certified), plus the
 * normal sampling rate f_N on the rest.</li>
 * </ul>
 * The point estimate, not a credible bound, as the refit's projection is: it prices future reviews.
 *
 * @param productionReviewed the stream's reviews in its state counted with the evidence
 * @param productionRejected the rejections among them
 */
public record OnboardingOutlook(StreamKey key, OnboardingEvidence evidence, double weight, long productionReviewed,
        long productionRejected, double errorRate, double targetErrorRate, double projectedReviewProbability) {

    /**
     * The outlook of a stream with {@code rejected} of {@code reviewed} production reviews in its state; empty
     * without evidence, or once production contradicts it ({@link ClearancePrior#of}).
     */
    public static Optional<OnboardingOutlook> of(StreamKey key, Optional<OnboardingEvidence> evidence, long rejected,
            long reviewed, double target, AuditConfig config) {
        return ClearancePrior.of(evidence, rejected, reviewed, config).filter(prior -> {
            // P(R <= r) under the prior's predictive: too few rejections for the evidence to hold
            double a = config.trust().priorAlpha() + prior.pseudoRejected();
            double b = config.trust().priorBeta() + prior.weight() - prior.pseudoRejected();
            return 1 - ClearancePrior.predictiveTail(rejected + 1, reviewed, a, b) >= config.onboarding().conflictP();
        }).map(prior -> {
            double error = (rejected + prior.pseudoRejected()) / (reviewed + prior.weight());
            return new OnboardingOutlook(key, prior.evidence(), prior.weight(), reviewed, rejected, error, target,
                    projectedReview(error, target, config.trust().targetErrorRate(target),
                            config.sampling().normalRate()));
        });
    }

    /**
     * Review share in the steady state with error rate θ at A, when the confidence does not (yet) separate errors:
     * 1 while θ is above the trust target (probation for good), else the trusted stream's.
     */
    static double projectedReview(double error, double target, double trustTarget, double normalRate) {
        if (error > trustTarget) {
            return 1.0;
        }
        double blocking = error <= target ? 0 : 1 - target / error;
        return blocking + (1 - blocking) * Math.max(0, Math.min(1, normalRate));
    }
}
