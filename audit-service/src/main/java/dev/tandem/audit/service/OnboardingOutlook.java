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
 * <li>when the evidence carries its items' raw confidences: the review share of the confidence threshold that
 * passes the most items with its outgoing error on them, (wrong and passed + ½) / (items + 1) (Jeffreys), at most A
 * and, for a stream the error rate alone keeps in probation, passing at least the certified clearance's share: the
 * items it does not pass plus the normal sampling rate on those it does, where that is less than the rule above.
 * This is what a certified threshold reaches once production reviews certify one; the golden set certifies
 * nothing.</li>
 * </ul>
 * The point estimate, not a credible bound, as the refit's projection is: it prices future reviews.
 *
 * @param productionReviewed the stream's reviews in its state counted with the evidence
 * @param productionRejected the rejections among them
 * @param thresholdPassShare the share of the items the threshold passes (0: none priced)
 * @param threshold that threshold on the raw confidence
 */
public record OnboardingOutlook(StreamKey key, OnboardingEvidence evidence, double weight, long productionReviewed,
        long productionRejected, double errorRate, double targetErrorRate, double projectedReviewProbability,
        double thresholdPassShare, double threshold) {

    /** A confidence threshold on the golden items: what it passes and the review share that leaves. */
    record GoldenThreshold(double threshold, double passShare, double reviewProbability) {
    }

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
            double trustTarget = config.trust().targetErrorRate(target);
            double normal = config.sampling().normalRate();
            double review = projectedReview(error, target, trustTarget, normal);
            Optional<GoldenThreshold> t = goldenThreshold(prior.evidence(), target,
                    error > trustTarget ? config.trust().clearancePassShare() : 0, normal)
                    .filter(g -> g.reviewProbability() < review);
            return new OnboardingOutlook(key, prior.evidence(), prior.weight(), reviewed, rejected, error, target,
                    t.map(GoldenThreshold::reviewProbability).orElse(review),
                    t.map(GoldenThreshold::passShare).orElse(0.0), t.map(GoldenThreshold::threshold).orElse(0.0));
        });
    }

    /**
     * The confidence threshold that passes the most golden items with (wrong and passed + ½) / (items + 1) ≤ A and
     * a pass share of at least {@code minPassShare}; empty when the evidence has no confidences or none qualifies.
     * Candidates are the items' own confidences (an item passes when its confidence is at least the threshold).
     */
    static Optional<GoldenThreshold> goldenThreshold(OnboardingEvidence e, double target, double minPassShare,
            double normalRate) {
        if (!e.scored()) {
            return Optional.empty();
        }
        int n = (int) e.items();
        double[][] items = new double[n][];
        int i = 0;
        for (double c : e.rightConfidences()) {
            items[i++] = new double[] {c, 0};
        }
        for (double c : e.wrongConfidences()) {
            items[i++] = new double[] {c, 1};
        }
        java.util.Arrays.sort(items, (a, b) -> Double.compare(b[0], a[0])); // most confident first
        GoldenThreshold best = null;
        int passed = 0;
        int wrongPassed = 0;
        for (int j = 0; j < n; j++) {
            passed++;
            wrongPassed += (int) items[j][1];
            if (j + 1 < n && items[j + 1][0] == items[j][0]) {
                continue; // a threshold passes every item of equal confidence
            }
            double share = (double) passed / n;
            if ((wrongPassed + 0.5) / (n + 1.0) <= target && share >= minPassShare) {
                double f = Math.max(0, Math.min(1, normalRate));
                best = new GoldenThreshold(items[j][0], share, (1 - share) + share * f);
            }
        }
        return Optional.ofNullable(best);
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
