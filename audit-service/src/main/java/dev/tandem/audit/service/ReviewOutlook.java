package dev.tandem.audit.service;

import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;

/**
 * What a stream's next output will cost in reviews, in expectation: the figures a router needs to price "this worker,
 * then maybe a review, then maybe an escalation" against "the oracle directly". With s the share of outputs the
 * threshold in force passes, b the blocking sample rate and f the sampling rate of the state:
 * <ul>
 * <li>probation, tightened, suspended: every output is reviewed blocking (1, 1);</li>
 * <li>normal, reduced: review (1 − s) + s·max(b, f), blocking (1 − s) + s·b (the rules of {@link AuditPolicy});</li>
 * <li>projected (once trusted at the stream's target, sampling at the normal rate f_N): (1 − s*) + s*·f_N with s* the
 * refit's projected pass share; 1 while there is no projection.</li>
 * </ul>
 * s is the pass share of the threshold in force, certified or the default (before the first refit, the projected
 * one).
 */
public record ReviewOutlook(double reviewProbability, double blockingProbability, double projectedReviewProbability) {

    public static ReviewOutlook of(StreamRecord s, double normalRate) {
        double projectedShare = clamp(s.projectedPassShare());
        double projected = projectedShare <= 0 ? 1.0 : (1 - projectedShare) + projectedShare * normalRate;
        TrustState state = s.state();
        if (state != TrustState.NORMAL && state != TrustState.REDUCED) {
            return new ReviewOutlook(1.0, 1.0, projected);
        }
        double share = clamp(s.thresholdPassShare() > 0 ? s.thresholdPassShare() : projectedShare);
        double b = clamp(s.blockingRate());
        double a = Math.max(b, clamp(s.samplingRate()));
        return new ReviewOutlook((1 - share) + share * a, (1 - share) + share * b, projected);
    }

    private static double clamp(double v) {
        return Double.isNaN(v) ? 0 : Math.max(0, Math.min(1, v));
    }
}
