package dev.tandem.audit.service;

import java.time.Instant;
import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.config.AuditConfig;

/**
 * Graduated trust per stream, in the spirit of CSP-1 (100 % inspection until a clearance run, then a sampling
 * fraction f) and the ANSI/ASQ Z1.4 switching rules (normal, tightened, reduced, discontinued inspection).
 *
 * <p>Notation, for a stream after a verdict: n reviews of which r rejected (lifetime); n_s, r_s the same counts
 * since the current state began; c the consecutive accepted reviews; w the rejections among the last W reviews;
 * q_L(r, n) the {@code credible-level} quantile of the Beta(1 + r, 1 + n - r) posterior of the error rate and
 * q_U(r, n) its (1 - level) quantile. Defaults in brackets. The first rule that applies wins:
 * <ol>
 * <li><b>any state but TIGHTENED/SUSPENDED → TIGHTENED</b> when w &ge; {@code tighten-rejections} [2] of the last
 * W = {@code tighten-window} [5] reviews (Z1.4: 2 of 5 lots rejected).</li>
 * <li><b>TIGHTENED → SUSPENDED</b> when n_s &ge; {@code suspend-min-reviews} [20] and the lower bound
 * q_(1-level)(r_s, n_s) &gt; {@code suspend-error-rate} [10 %]: the stream is shown, not merely suspected, to be
 * bad.</li>
 * <li><b>PROBATION → NORMAL</b> when the upper bound q_level(r, n) &le; {@code target-error-rate} [2 %]. With no
 * rejection the bound is 1 - (1 - level)^(1/(n+1)), so a clean stream leaves probation after
 * n = ⌈ln(0.05)/ln(0.98)⌉ - 1 = 148 reviews; each rejection pushes that out by roughly 90 reviews.</li>
 * <li><b>NORMAL → REDUCED</b> when c &ge; {@code reduce-after-clean-reviews} [300] and q_level(r, n) &le; target
 * (Z1.4: a long run of accepted lots).</li>
 * <li><b>REDUCED → NORMAL</b> on any rejection (Z1.4: a rejected lot under reduced inspection).</li>
 * <li><b>TIGHTENED → NORMAL</b> when c &ge; {@code restore-after-clean-reviews} [50] and q_level(r, n) &le; target;
 * a stream tightened before it ever earned trust therefore stays fully reviewed until the evidence is there.</li>
 * <li><b>SUSPENDED → TIGHTENED</b> when c &ge; {@code restore-after-clean-reviews} (every output is still reviewed
 * while suspended, so recovery is observed, not assumed).</li>
 * </ol>
 * Sampling rate per state (the CSP fraction f): PROBATION, TIGHTENED, SUSPENDED 1; NORMAL
 * {@code sampling.normal-rate} [10 %]; REDUCED {@code sampling.reduced-rate} [3 %]. On every change the per-state
 * counters restart; lifetime counters, the window and c carry over.
 */
@ApplicationScoped
public class TrustPolicy {

    private final AuditConfig config;

    public TrustPolicy(AuditConfig config) {
        this.config = config;
    }

    /** A stream seen for the first time: probation, full review, the configured threshold. */
    public StreamRecord newStream(StreamKey key, Instant now) {
        return new StreamRecord(key, TrustState.PROBATION, 0, 0, 0, 0, 0, 0, 0, "",
                samplingRate(TrustState.PROBATION), config.sampling().confidenceThreshold(), 1.0, now, 0);
    }

    public double samplingRate(TrustState state) {
        return switch (state) {
            case NORMAL -> config.sampling().normalRate();
            case REDUCED -> config.sampling().reducedRate();
            case PROBATION, TIGHTENED, SUSPENDED -> 1.0;
        };
    }

    /** The stream after one more verdict, with the state change it triggers, if any. */
    public TrustUpdate apply(StreamRecord s, Verdict verdict, Instant now) {
        AuditConfig.Trust trust = config.trust();
        boolean rejected = verdict == Verdict.REJECTED;
        long reviewed = s.reviewed() + 1;
        long rejections = s.rejected() + (rejected ? 1 : 0);
        long consecutive = rejected ? 0 : s.consecutiveAccepted() + 1;
        long stateReviewed = s.stateReviewed() + 1;
        long stateRejected = s.stateRejected() + (rejected ? 1 : 0);
        String window = s.recentOutcomes() + (rejected ? 'R' : 'A');
        int windowSize = Math.max(1, trust.tightenWindow());
        if (window.length() > windowSize) {
            window = window.substring(window.length() - windowSize);
        }
        long windowRejections = window.chars().filter(ch -> ch == 'R').count();
        double level = trust.credibleLevel();
        double target = trust.targetErrorRate();
        double upper = ErrorRateBounds.upper(rejections, reviewed, level);

        TrustState from = s.state();
        TrustState to = from;
        String reason = null;
        if (from != TrustState.TIGHTENED && from != TrustState.SUSPENDED
                && windowRejections >= trust.tightenRejections()) {
            to = TrustState.TIGHTENED;
            reason = String.format(Locale.ROOT, "%d of the last %d reviews rejected (limit %d)",
                    windowRejections, window.length(), trust.tightenRejections());
        } else if (from == TrustState.TIGHTENED && stateReviewed >= trust.suspendMinReviews()
                && ErrorRateBounds.lower(stateRejected, stateReviewed, level) > trust.suspendErrorRate()) {
            to = TrustState.SUSPENDED;
            reason = String.format(Locale.ROOT,
                    "error rate shown above %.1f %% under tightened review: lower bound %.2f %% from %d of %d "
                            + "rejected",
                    100 * trust.suspendErrorRate(), 100 * ErrorRateBounds.lower(stateRejected, stateReviewed, level),
                    stateRejected, stateReviewed);
        } else if (from == TrustState.PROBATION && upper <= target) {
            to = TrustState.NORMAL;
            reason = boundReason("trust earned", upper, target, rejections, reviewed);
        } else if (from == TrustState.NORMAL && consecutive >= trust.reduceAfterCleanReviews() && upper <= target) {
            to = TrustState.REDUCED;
            reason = String.format(Locale.ROOT, "%d consecutive accepted reviews; ", consecutive)
                    + boundReason("record clean", upper, target, rejections, reviewed);
        } else if (from == TrustState.REDUCED && rejected) {
            to = TrustState.NORMAL;
            reason = "a review rejected under reduced inspection";
        } else if (from == TrustState.TIGHTENED && consecutive >= trust.restoreAfterCleanReviews()
                && upper <= target) {
            to = TrustState.NORMAL;
            reason = String.format(Locale.ROOT, "%d consecutive accepted reviews; ", consecutive)
                    + boundReason("quality recovered", upper, target, rejections, reviewed);
        } else if (from == TrustState.SUSPENDED && consecutive >= trust.restoreAfterCleanReviews()) {
            to = TrustState.TIGHTENED;
            reason = String.format(Locale.ROOT, "%d consecutive accepted reviews while suspended", consecutive);
        }

        boolean changed = to != from;
        StreamRecord next = new StreamRecord(s.key(), to, s.decided(), s.reviewRequested(), reviewed, rejections,
                consecutive, changed ? 0 : stateReviewed, changed ? 0 : stateRejected, window,
                changed ? samplingRate(to) : s.samplingRate(), s.confidenceThreshold(), upper,
                changed ? now : s.stateSince(), s.version() + 1);
        return new TrustUpdate(next, from, changed ? reason : null);
    }

    private String boundReason(String what, double upper, double target, long rejections, long reviewed) {
        return String.format(Locale.ROOT, "%s: %.0f %% upper bound of the error rate %.2f %% <= %.2f %% after %d "
                + "reviews (%d rejected)", what, 100 * config.trust().credibleLevel(), 100 * upper, 100 * target,
                reviewed, rejections);
    }
}
