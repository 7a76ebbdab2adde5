package dev.tandem.audit.service;

import java.util.Locale;
import java.util.Optional;

import org.apache.commons.math3.special.Beta;
import org.apache.commons.math3.util.CombinatoricsUtils;

import dev.tandem.audit.OnboardingEvidence;
import dev.tandem.audit.config.AuditConfig;

/**
 * Onboarding evidence as a discounted (power) prior of the probation clearance: n_g golden items with r_g wrong
 * enter the Beta posterior as w = min(d·n_g, w_max) pseudo-reviews with the golden error rate, on top of the Jeffreys
 * prior. What it may and may not do:
 * <ul>
 * <li>it may shorten probation: the clearance's upper bound U(r_s + w·r_g/n_g, n_s + w) ≤ target, with at least
 * {@code suspend-min-reviews} production reviews in the state;</li>
 * <li>it never enters the outgoing-error certificate, the blocking sample that holds outgoing errors under A before
 * a threshold is certified, suspension or the drift detectors: those rest on audited production outputs only;</li>
 * <li>it is dropped as soon as production contradicts it: when the prior predictive (beta-binomial) probability of
 * at least r_s rejections in n_s reviews is under {@code conflict-p}.</li>
 * </ul>
 */
public record ClearancePrior(OnboardingEvidence evidence, double weight, double pseudoRejected) {

    /** The prior for a stream with {@code rejected} of {@code reviewed} in its state; empty when none applies. */
    public static Optional<ClearancePrior> of(Optional<OnboardingEvidence> evidence, long rejected, long reviewed,
            AuditConfig config) {
        if (evidence.isEmpty()) {
            return Optional.empty();
        }
        OnboardingEvidence e = evidence.get();
        AuditConfig.Onboarding onboarding = config.onboarding();
        double weight = Math.min(onboarding.discount() * e.items(), onboarding.maxWeight());
        if (!(weight > 0)) {
            return Optional.empty();
        }
        double pseudoRejected = weight * e.errorRate();
        ClearancePrior prior = new ClearancePrior(e, weight, pseudoRejected);
        double a = config.trust().priorAlpha() + pseudoRejected;
        double b = config.trust().priorBeta() + weight - pseudoRejected;
        if (predictiveTail(rejected, reviewed, a, b) < onboarding.conflictP()) {
            return Optional.empty();
        }
        return Optional.of(prior);
    }

    /** Upper {@code level} bound of the error rate with this prior and the stream's own reviews. */
    public double upper(long rejected, long reviewed, double level, AuditConfig.Trust trust) {
        return ErrorRateBounds.upper(rejected + pseudoRejected, reviewed + weight, level, trust.priorAlpha(),
                trust.priorBeta());
    }

    public String describe() {
        return String.format(Locale.ROOT, "with the onboarding prior (%s: %d items, %d wrong, counted as %.1f reviews)",
                evidence.source(), evidence.items(), evidence.rejected(), weight);
    }

    /** P(R ≥ r) for R ~ BetaBinomial(n, a, b): how surprising r rejections in n reviews are under the prior. */
    static double predictiveTail(long r, long n, double a, double b) {
        if (r <= 0) {
            return 1.0;
        }
        double logNorm = Beta.logBeta(a, b);
        double tail = 0;
        for (long k = r; k <= n; k++) {
            tail += Math.exp(CombinatoricsUtils.binomialCoefficientLog((int) n, (int) k)
                    + Beta.logBeta(k + a, n - k + b) - logNorm);
        }
        return Math.min(1.0, tail);
    }
}
