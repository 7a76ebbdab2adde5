package dev.tandem.audit.service;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.AuditReason;
import dev.tandem.audit.OnboardingEvidence;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.calibration.CalibrationMap;

/**
 * Graduated trust per stream: continuous sampling plans (Dodge's CSP-1 and CSP-2, Lieberman &amp; Solomon's
 * multi-level plans) and the ANSI/ASQ Z1.4 switching rules, with Bayesian clearance and drift detection in place
 * of fixed clearance numbers.
 *
 * <p>Notation for a stream after a verdict: n_s, r_s reviews and rejections since the current state began;
 * U(r, n), L(r, n) the upper and lower {@code credible-level} quantiles of the Beta(a₀ + r, b₀ + n − r) posterior
 * (Jeffreys prior by default); a "sampled review" is a review of an output the confidence rule passed (reasons
 * RANDOM_SAMPLE and OUTGOING_LIMIT): an unbiased look at what leaves the system. The first rule that applies wins:
 * <ol>
 * <li><b>NORMAL/REDUCED → TIGHTENED, drift alarm</b> when the risk-adjusted outcome CUSUM reaches its limit
 * ({@link DriftDetectors}; its reference is the calibration shifted by what the window's own outcomes show against
 * it, plus a margin for its uncertainty; its limit the stream's own, {@link #outcomeLimit}); a new evidence window starts, held provisionally until rule 3 decides
 * (the old one is kept aside, restored unless the drift is confirmed) and the threshold must be certified again.</li>
 * <li><b>NORMAL/REDUCED → TIGHTENED (CSP-2)</b> when a sampled review is rejected within k =
 * {@code tighten-within-samples} [5] sampled reviews after another sampled rejection (CSP-2: a second defect within
 * k sampled units returns to 100 % inspection); k is counted at the normal rate f_N, max(1, round(k·f_N/f)) at a
 * higher rate f, and shortened where the passed error rate the policy allows makes such gaps common, so that
 * CSP-2's false tightenings stay within {@code tighten-false-alarm-rate} per output ({@link #tightenWithin}).</li>
 * <li><b>TIGHTENED → NORMAL, drift not confirmed</b>: after an outcome alarm the tightened reviews run Wald's
 * SPRT of error odds R (H₁) against H₀: the calibration at the alarm shifted by the estimate γ̂ alone (the CUSUM's
 * reference adds a margin for γ̂'s uncertainty, which in a one-off test would put a true doubling between H₀ and
 * H₁), Σw with the CUSUM's w, bounds ±ln(1/ε), ε = {@code drift.confirmation-error}
 * [5 %]; reaching −ln(1/ε) refutes the drift: the old evidence window is restored and the policy refitted on it (a
 * false alarm costs a few hundred full reviews, not the evidence). Reaching +ln(1/ε) confirms it: the new window
 * stands, the only way an outcome alarm discards evidence (a suspension by rule 6, which shows the error rate above
 * {@code suspend-error-rate}, also ends the confirmation with the new window). {@code drift.confirmation-max-reviews}
 * [1500] tightened reviews without a decision leave the drift unconfirmed: the old window is kept, as after a
 * refutation (issue 18; before, this counted as confirmed and threw the window away); so do, with
 * {@code drift.confirmation-expected-errors} k set, tightened reviews in which H₀ expected k errors
 * ({@link #confirmationInformationSpent}). Until the SPRT decides, the
 * stream stays TIGHTENED (rules 7 and 8 wait) and the calibration it tests against stays the one of the alarm:
 * otherwise a certificate from the few hundred outputs since the alarm would end the confirmation and, true alarm
 * or false, throw the old window away.</li>
 * <li><b>REDUCED → NORMAL</b> on any rejected sampled review (multi-level plan: a failure moves one level up; Z1.4: a
 * rejected lot under reduced inspection).</li>
 * <li><b>NORMAL → REDUCED</b> after {@code reduce-after-clean-samples} [300] consecutive accepted sampled reviews with
 * a certified threshold (multi-level plan: i clean units step one level down; a zero-failure demonstration that
 * the error rate of passed outputs is under 0.77 % at 90 %).</li>
 * <li><b>PROBATION/TIGHTENED → SUSPENDED</b> when n_s ≥ {@code suspend-min-reviews} [20] and L(r_s, n_s) &gt;
 * {@code suspend-error-rate} [10 x the stream's A: 10 % at A = 1 %] (Z1.4 discontinuation: shown, not merely
 * suspected, to be bad).</li>
 * <li><b>PROBATION/TIGHTENED → NORMAL</b> when U(r_s, n_s) ≤ {@code trust.target-error-rate} [2 x A: 2 %] (CSP-1's clearance
 * on evidence: 95 clean reviews with the Jeffreys prior, more after rejections); the policy is refitted
 * (threshold certified) before the first NORMAL decision. From PROBATION, with at least {@code suspend-min-reviews}
 * reviews, the bound may include the backend's onboarding evidence as a discounted prior ({@link ClearancePrior}):
 * a model that did well on its golden set leaves probation sooner; what it passes afterwards is still held under A
 * by the blocking sample and the certificate, both from production reviews only.</li>
 * <li><b>PROBATION/TIGHTENED → NORMAL on a certified threshold</b> (checked after each refit, with at least
 * {@code suspend-min-reviews} reviews in the state): the evidence window certifies a raw-confidence threshold that
 * passes at least {@code clearance-pass-share} [50 %] of the outputs, so
 * the confidence rule alone holds outgoing errors under A at 1 − δ even when the overall error rate is too high
 * for the clearance rule above.</li>
 * <li><b>SUSPENDED → TIGHTENED</b> after {@code restore-after-clean-reviews} [50] consecutive accepted reviews.</li>
 * </ol>
 * Sampling rate f per state: PROBATION, TIGHTENED, SUSPENDED 1 (every output reviewed blocking); NORMAL
 * {@code sampling.normal-rate} [2 %]; REDUCED {@code sampling.reduced-rate} [1 %]; both raised to
 * {@code sampling.build-up-rate} [10 %] by the refit while the window's certification sample is small
 * ({@link PolicyFitter}); in NORMAL and REDUCED at least {@code drift.alert-sampling-rate} [0: off] while the outcome
 * CUSUM is at least {@code drift.alert-level} × h ({@link #samplingRateAt}).
 * <p>
 * Long on purpose: the rules are one ordered list where the first that applies wins, and their order is part of
 * their meaning; they are kept together, with the comment above as their specification.
 */
@ApplicationScoped
public class TrustPolicy {

    private static final int RECENT = 20;

    private final AuditConfig config;

    public TrustPolicy(AuditConfig config) {
        this.config = config;
    }

    /** A stream seen for the first time: probation, full review, the configured threshold. */
    public StreamRecord newStream(StreamKey key, Instant now) {
        double threshold = config.sampling().confidenceThreshold();
        return new StreamRecord(key, TrustState.PROBATION, 0, 0, 0, 0, 0, 0, 0, "", 1.0, threshold, 1.0, now, 0, 0,
                0, now, threshold, false, 0, "", 0, null, -1, 0, -1, 0, 0, null, 0, null, 0, 0, 0, 0, 0, 1, 0, 0, 0);
    }

    public double samplingRate(TrustState state) {
        return switch (state) {
            case NORMAL -> config.sampling().normalRate();
            case REDUCED -> config.sampling().reducedRate();
            case PROBATION, TIGHTENED, SUSPENDED -> 1.0;
        };
    }

    /**
     * The stream after one more verdict.
     *
     * @param reason why the output was reviewed (sampled reviews feed the sampling-plan rules)
     * @param rawConfidence the output's raw confidence (its expected error feeds the outcome CUSUM)
     * @param nextSeq first decision sequence number after now (a drift alarm restarts the window there)
     */
    public TrustUpdate apply(StreamRecord s, Verdict verdict, AuditReason reason, double rawConfidence, long nextSeq,
            Instant now) {
        return apply(s, verdict, reason, rawConfidence, nextSeq, now, Optional.empty());
    }

    /**
     * The stream after one more verdict, with the onboarding evidence of its backend and worker type, if any: a
     * discounted prior of the probation clearance only ({@link ClearancePrior}).
     */
    public TrustUpdate apply(StreamRecord s, Verdict verdict, AuditReason reason, double rawConfidence, long nextSeq,
            Instant now, Optional<OnboardingEvidence> onboarding) {
        AuditConfig.Trust trust = config.trust();
        boolean rejected = verdict == Verdict.REJECTED;
        boolean sampled = reason == AuditReason.RANDOM_SAMPLE || reason == AuditReason.OUTGOING_LIMIT;
        StreamRecord.Builder b = s.toBuilder();
        b.reviewed = s.reviewed() + 1;
        b.rejected = s.rejected() + (rejected ? 1 : 0);
        b.consecutiveAccepted = rejected ? 0 : s.consecutiveAccepted() + 1;
        b.stateReviewed = s.stateReviewed() + 1;
        b.stateRejected = s.stateRejected() + (rejected ? 1 : 0);
        String recent = s.recentOutcomes() + (rejected ? 'R' : 'A');
        b.recentOutcomes = recent.length() > RECENT ? recent.substring(recent.length() - RECENT) : recent;
        b.version = s.version() + 1;
        long previousSampleGap = s.samplesSinceRejection();
        if (sampled) {
            b.sampleConsecutiveAccepted = rejected ? 0 : s.sampleConsecutiveAccepted() + 1;
            b.samplesSinceRejection = rejected ? 0 : (previousSampleGap < 0 ? -1 : previousSampleGap + 1);
        }
        TrustState from = s.state();
        boolean trusted = from == TrustState.NORMAL || from == TrustState.REDUCED;
        if (trusted && s.calibration() != null) {
            AuditConfig.Drift drift = config.drift();
            double expected = 1 - CalibrationMap.apply(s.calibration(), rawConfidence);
            b.outcomeCusum = Math.max(0, s.outcomeCusum() + DriftDetectors.outcomeIncrement(rejected, expected,
                    s.calibration().referenceLogOdds(), drift.oddsRatio(), drift.expectedErrorFloor()));
        }
        boolean confirming = from == TrustState.TIGHTENED && s.previousWindowSinceSeq() != null
                && s.calibration() != null;
        if (confirming) {
            AuditConfig.Drift drift = config.drift();
            double expected = 1 - CalibrationMap.apply(s.calibration(), rawConfidence);
            // H₀ is the calibration frozen at the alarm, shifted by the estimate γ̂ without the CUSUM's margin: a
            // one-off test takes the best estimate, and against the margin-shifted reference a true doubling sits
            // between H₀ and H₁ and was refuted in 5 of 32 held-out runs (docs/benchmarks.md, issue 18)
            // own-history: H₀ is what the stream showed before the excursion at this confidence, so a misfit of the
            // calibration in a part of the range that TIGHTENED now reviews is not read as a change
            double shift = ownHistory(s) ? s.calibration().historyLogOdds(rawConfidence)
                    : s.calibration().estimatedLogOdds();
            b.confirmationLlr = s.confirmationLlr() + DriftDetectors.outcomeIncrement(rejected, expected, shift,
                    drift.oddsRatio(), drift.expectedErrorFloor());
        }
        double level = trust.credibleLevel();
        // the trust target and the suspension limit follow the stream's A, the one quality knob
        double streamTarget = config.target().forStream(s.key());
        double trustTarget = trust.targetErrorRate(streamTarget);
        double suspendLimit = trust.suspendErrorRate(streamTarget);
        double a0 = trust.priorAlpha();
        double b0 = trust.priorBeta();
        double upper = ErrorRateBounds.upper(b.stateRejected, b.stateReviewed, level, a0, b0);
        double lower = ErrorRateBounds.lower(b.stateRejected, b.stateReviewed, level, a0, b0);
        if (!trusted) {
            b.errorRateUpperBound = upper;
        }

        TrustState to = from;
        String why = null;
        boolean restored = false;
        String alarm = null;
        Optional<ClearancePrior> prior;
        double bound = Math.log(1 / config.drift().confirmationError()); // SPRT with α = β
        if (confirming && b.confirmationLlr <= -bound) {
            // Wald's SPRT on the tightened reviews rejects the drift: a false alarm; the old evidence still holds.
            to = TrustState.NORMAL;
            why = String.format(Locale.ROOT, "drift not confirmed: log-likelihood ratio %.2f of %d tightened reviews "
                    + "reached -%.2f (SPRT, error odds %.1fx vs %s); evidence window restored",
                    b.confirmationLlr, b.stateReviewed, bound, config.drift().oddsRatio(), ownHistory(s)
                            ? "the stream's own error rates before the alarm per confidence bin"
                            : "the calibration and its estimated shift");
            b.windowSinceSeq = s.previousWindowSinceSeq();
            b.previousWindowSinceSeq = null;
            b.confirmationLlr = 0;
            restored = true;
        } else if (confirming && b.confirmationLlr < bound && (b.stateReviewed >= config.drift().confirmationMaxReviews()
                || confirmationInformationSpent(b.stateRejected, b.confirmationLlr))) {
            // Undecided: neither bound in the allotted reviews (true odds between the reference and R). Only a
            // confirmed change may discard evidence (issue 18), so the old window is kept, the tightened reviews
            // join it, and the CUSUM starts again from 0: if the odds did rise, it alarms again on new evidence.
            to = TrustState.NORMAL;
            why = String.format(Locale.ROOT, "drift neither confirmed nor refuted: log-likelihood ratio %.2f after "
                    + "%d tightened reviews (SPRT bounds ±%.2f%s); evidence window kept", b.confirmationLlr,
                    b.stateReviewed, bound, b.stateReviewed < config.drift().confirmationMaxReviews()
                            ? String.format(Locale.ROOT, ", H₀ expected %.1f errors in them",
                                    config.drift().confirmationExpectedErrors())
                            : "");
            b.windowSinceSeq = s.previousWindowSinceSeq();
            b.previousWindowSinceSeq = null;
            b.confirmationLlr = 0;
            restored = true;
        } else if (confirming && b.confirmationLlr >= bound) {
            // confirmed (the only case that discards evidence): the window since the alarm stands, the stream stays
            // TIGHTENED and re-earns trust on it by the usual exits
            b.previousWindowSinceSeq = null;
            b.confirmationLlr = 0;
        } else if (trusted && b.outcomeCusum >= outcomeLimit(config.drift(), s)) {
            to = TrustState.TIGHTENED;
            alarm = "outcome";
            why = String.format(Locale.ROOT, "drift alarm: risk-adjusted CUSUM of audited outcomes %.2f reached the "
                    + "limit %.2f%s (error odds about %.1fx what calibrated confidence predicts); evidence window "
                    + "restarted, threshold to be re-certified", b.outcomeCusum, outcomeLimit(config.drift(), s),
                    derivedLimit(config.drift(), s) ? String.format(Locale.ROOT, ", derived for this stream's reviews "
                            + "at %.2g false alarms per output", config.drift().outcomeFalseAlarmRate()) : "",
                    config.drift().oddsRatio());
        } else if (trusted && sampled && rejected && previousSampleGap >= 0
                && previousSampleGap < tightenWithin(s)) {
            to = TrustState.TIGHTENED;
            why = String.format(Locale.ROOT, "CSP-2: a second sampled review rejected within %d sampled reviews "
                    + "(limit %d%s)", previousSampleGap + 1, tightenWithin(s), Double.isNaN(allowedPassedErrorRate(s))
                            ? "" : String.format(Locale.ROOT, " at the passed error rate of %.2f %% the policy allows",
                                    100 * allowedPassedErrorRate(s)));
        } else if (from == TrustState.REDUCED && sampled && rejected) {
            to = TrustState.NORMAL;
            why = "a sampled review rejected under reduced inspection";
        } else if (from == TrustState.NORMAL && b.sampleConsecutiveAccepted >= trust.reduceAfterCleanSamples()
                && s.thresholdCertified()) {
            to = TrustState.REDUCED;
            why = String.format(Locale.ROOT, "%d consecutive accepted sampled reviews with a certified threshold",
                    b.sampleConsecutiveAccepted);
        } else if ((from == TrustState.PROBATION || from == TrustState.TIGHTENED)
                && b.stateReviewed >= trust.suspendMinReviews() && lower > suspendLimit) {
            to = TrustState.SUSPENDED;
            why = String.format(Locale.ROOT, "error rate shown above %.1f %%: %.0f %% lower bound %.2f %% from %d of "
                    + "%d reviews rejected in %s", 100 * suspendLimit, 100 * level, 100 * lower,
                    b.stateRejected, b.stateReviewed, from.name().toLowerCase(Locale.ROOT));
        } else if (from == TrustState.PROBATION && upper > trustTarget
                && b.stateReviewed >= trust.suspendMinReviews()
                && (prior = ClearancePrior.of(onboarding, b.stateRejected, b.stateReviewed, config)).isPresent()
                && prior.get().upper(b.stateRejected, b.stateReviewed, level, trust) <= trustTarget) {
            to = TrustState.NORMAL;
            why = String.format(Locale.ROOT, "trust earned: %.0f %% upper bound of the error rate %.2f %% <= %.2f %% "
                    + "after %d reviews (%d rejected) in probation %s; the outgoing-error certificate still rests on "
                    + "production reviews only", 100 * level,
                    100 * prior.get().upper(b.stateRejected, b.stateReviewed, level, trust),
                    100 * trustTarget, b.stateReviewed, b.stateRejected, prior.get().describe());
        } else if ((from == TrustState.PROBATION || from == TrustState.TIGHTENED) && upper <= trustTarget
                && !(from == TrustState.TIGHTENED && b.previousWindowSinceSeq != null)) {
            to = TrustState.NORMAL;
            why = String.format(Locale.ROOT, "trust %s: %.0f %% upper bound of the error rate %.2f %% <= %.2f %% after "
                    + "%d reviews (%d rejected) in %s", from == TrustState.PROBATION ? "earned" : "restored",
                    100 * level, 100 * upper, 100 * trustTarget, b.stateReviewed, b.stateRejected,
                    from.name().toLowerCase(Locale.ROOT));
        } else if (from == TrustState.SUSPENDED && b.consecutiveAccepted >= trust.restoreAfterCleanReviews()) {
            to = TrustState.TIGHTENED;
            why = String.format(Locale.ROOT, "%d consecutive accepted reviews while suspended", b.consecutiveAccepted);
        }

        if (b.outcomeCusum <= 0) {
            b.cusumBaseSeq = nextSeq; // no excursion: every output so far may inform the CUSUM's reference
        }
        boolean needsFit = false;
        if (to != from) {
            b.state = to;
            b.stateSince = now;
            b.stateReviewed = 0;
            b.stateRejected = 0;
            b.samplingRate = samplingRate(to);
            b.sampleConsecutiveAccepted = 0;
            b.samplesSinceRejection = -1;
            b.policyVersion = s.policyVersion() + 1;
            if (to == TrustState.TIGHTENED || to == TrustState.SUSPENDED) {
                b.errorRateUpperBound = 1.0;
            }
            if (alarm != null) {
                b.previousWindowSinceSeq = s.windowSinceSeq();
                b.confirmationLlr = 0;
                startNewWindow(b, nextSeq, now);
                b.cusumBaseSeq = nextSeq;
            } else if (from == TrustState.TIGHTENED) {
                b.previousWindowSinceSeq = null;
                b.confirmationLlr = 0;
            }
            if (restored) {
                // the restored window's certificate is refitted before the first NORMAL decision
                b.blockingRate = 1.0;
                b.thresholdCertified = false;
                needsFit = true;
            } else if (to == TrustState.NORMAL && from != TrustState.REDUCED) {
                // Until the refit certifies a threshold, every confident output is reviewed blocking.
                b.blockingRate = 1.0;
                needsFit = true;
            }
        }
        if (b.state == TrustState.NORMAL || b.state == TrustState.REDUCED) {
            // Half-way to an outcome alarm: more labels while a change is suspected. f is a policy field, so the
            // decision rule stays a pure function of the published policy and records the f it used as π.
            AuditConfig.Drift drift = config.drift();
            double limit = outcomeLimit(drift, s);
            boolean wasHalfway = trusted && halfway(drift, limit, s.outcomeCusum());
            if (halfway(drift, limit, b.outcomeCusum) && b.samplingRate < drift.alertSamplingRate()) {
                b.samplingRate = drift.alertSamplingRate();
                b.policyVersion = s.policyVersion() + 1;
            } else if (wasHalfway && !halfway(drift, limit, b.outcomeCusum) && to == from
                    && s.samplingRate() == drift.alertSamplingRate()) {
                needsFit = true; // the refit restores the policy rate (the build-up rate or the state's f)
            }
        }
        return new TrustUpdate(b.build(), from, to != from ? why : null, alarm, needsFit);
    }

    /**
     * Whether H₀ expected {@code drift.confirmation-expected-errors} k errors among the tightened reviews so far. The
     * SPRT's sum is Σ [y·ln R − ln(1 − p + R·p)], so Σ ln(1 − p + R·p) = r·ln R − Σw with r the rejections: a sum
     * over H₀'s p alone, not the outcomes, ≈ (R − 1)·Σ p for small p. The cap is then about k/p reviews at H₀'s error
     * rate p: short where reviews carry much information, long (up to {@code confirmation-max-reviews}) where they
     * carry little, and the same under H₀ and H₁ (it does not look at the outcomes).
     */
    boolean confirmationInformationSpent(long rejected, double llr) {
        AuditConfig.Drift drift = config.drift();
        double k = drift.confirmationExpectedErrors();
        if (k <= 0) {
            return false;
        }
        double compensator = rejected * Math.log(drift.oddsRatio()) - llr;
        return compensator >= k * (drift.oddsRatio() - 1);
    }

    /** Whether the confirming SPRT tests against the stream's own pre-alarm history (fitted with its calibration). */
    private boolean ownHistory(StreamRecord s) {
        return config.drift().confirmationReference() == AuditConfig.Drift.ConfirmationReference.OWN_HISTORY
                && s.calibration().hasHistoryShifts();
    }

    /**
     * The outcome CUSUM's limit h for a stream: the one its last refit derived from the information rate of its
     * reviews and {@code drift.outcome-false-alarm-rate} ({@link PolicyFitter#outcomeLimit}), or
     * {@code drift.outcome-limit} when that budget is off or nothing has been derived yet.
     */
    public static double outcomeLimit(AuditConfig.Drift drift, StreamRecord s) {
        return derivedLimit(drift, s) ? s.outcomeLimit() : drift.outcomeLimit();
    }

    static boolean derivedLimit(AuditConfig.Drift drift, StreamRecord s) {
        return drift.outcomeFalseAlarmRate() > 0 && s.outcomeLimit() > 0;
    }

    /**
     * Whether an outcome CUSUM at {@code cusum} is half-way to its alarm at {@code limit}: at least
     * {@code drift.alert-level} × h, with {@code drift.alert-sampling-rate} set.
     */
    public static boolean halfway(AuditConfig.Drift drift, double limit, double cusum) {
        return drift.alertSamplingRate() > 0 && cusum >= drift.alertLevel() * limit;
    }

    /**
     * f of a trusted stream with its outcome CUSUM at {@code cusum}: the policy rate (the refit's build-up rate or
     * the state's f), raised to {@code drift.alert-sampling-rate} while the CUSUM is half-way to its limit. The
     * rate depends on past verdicts only and the draw ignores the output, so the extra reviews stay a uniform
     * sample (certification sample, IPW weight 1/f); under H₀ e^S is a martingale whichever outputs are reviewed,
     * so the chance that an excursion past h/2 ends in an alarm does not grow with the extra reviews.
     */
    public static double samplingRateAt(AuditConfig.Drift drift, double limit, double policyRate, double cusum) {
        return halfway(drift, limit, cusum) ? Math.max(policyRate, drift.alertSamplingRate()) : policyRate;
    }

    /**
     * After a refit: a PROBATION or TIGHTENED stream whose evidence window now certifies a threshold moves to NORMAL
     * (the confidence rule alone holds outgoing errors under the target, at 1 − δ), even when its overall error rate
     * is too high for the clearance rule. Null when nothing changes.
     */
    public TrustUpdate afterFit(StreamRecord s, Instant now) {
        if ((s.state() != TrustState.PROBATION && s.state() != TrustState.TIGHTENED) || !s.thresholdCertified()
                || confirmationPending(s) || s.thresholdPassShare() < config.trust().clearancePassShare()
                || s.stateReviewed() < config.trust().suspendMinReviews()) {
            return null;
        }
        StreamRecord.Builder b = s.toBuilder();
        b.state = TrustState.NORMAL;
        b.stateSince = now;
        b.stateReviewed = 0;
        b.stateRejected = 0;
        b.samplingRate = samplingRate(TrustState.NORMAL);
        b.sampleConsecutiveAccepted = 0;
        b.samplesSinceRejection = -1;
        b.blockingRate = 0;
        b.previousWindowSinceSeq = null;
        b.confirmationLlr = 0;
        b.policyVersion = s.policyVersion() + 1;
        String why = (s.state() == TrustState.PROBATION ? "trust earned" : "trust restored") + " on a certified "
                + "threshold: " + s.certification();
        return new TrustUpdate(b.build(), s.state(), why, null, false);
    }

    /**
     * CSP-2's k, in sampled reviews: the configured k at the normal rate f_N, max(1, round(k·f_N/f)) at a higher rate
     * f (the build-up rate), so a second rejection must come within about as many outputs; and, where the policy
     * in force allows a passed error rate θ₀ ({@link #allowedPassedErrorRate}) at which two rejections within that k
     * are common (a 10 % worker with a threshold passing half its outputs: θ₀ = 2 %, 9.6 % of gaps within 5), the
     * largest g whose false tightenings per output under θ₀ stay within {@code tighten-false-alarm-rate}: CSP-2
     * assumes nearly defect-free passed outputs, and this keeps it from reading the allowed error rate as a change.
     * 0 (CSP-2 silent) where even two consecutive rejections are that common; the outcome CUSUM still watches.
     */
    int tightenWithin(StreamRecord s) {
        int k = config.trust().tightenWithinSamples();
        double fN = config.sampling().normalRate();
        double f = s.samplingRate();
        int scaled = f > fN ? Math.max(1, (int) Math.round(k * fN / f)) : k;
        double allowed = allowedPassedErrorRate(s);
        if (Double.isNaN(allowed)) {
            return scaled;
        }
        // Sampled reviews come at a = max(b, f) of the passed outputs, so a stream whose passed outputs are as wrong
        // as allowed has a·s·θ₀ sampled rejections per output; each starts a gap that is at most g sampled reviews
        // with probability 1 − (1 − θ₀)^g. Keep g where that, times the rejections, stays within the budget.
        double sampledRate = Math.max(s.blockingRate(), f);
        double rejectionsPerOutput = sampledRate * s.thresholdPassShare() * allowed;
        double withinK = rejectionsPerOutput <= 0 ? 1 : config.trust().tightenFalseAlarmRate() / rejectionsPerOutput;
        if (withinK >= 1) {
            return scaled;
        }
        if (allowed >= 1) {
            return 0;
        }
        int budgeted = (int) Math.floor(Math.log1p(-withinK) / Math.log1p(-allowed));
        return Math.min(scaled, budgeted);
    }

    /**
     * θ₀, the error rate among passed outputs that the policy in force allows: A/s with a certified threshold
     * passing s (the certificate's own claim), U = A/(s(1 − b)) under the default threshold with its blocking
     * sample b (the bound that sample is sized for). NaN without a policy to read it from (no pass share yet, or
     * every passed output reviewed blocking), where CSP-2 keeps its configured k.
     */
    double allowedPassedErrorRate(StreamRecord s) {
        double passShare = s.thresholdPassShare();
        double blocking = s.blockingRate();
        if (passShare <= 0 || blocking >= 1) {
            return Double.NaN;
        }
        return Math.min(1, config.target().forStream(s.key()) / (passShare * (1 - blocking)));
    }

    /**
     * After an outcome alarm, until the SPRT on the tightened reviews decides: the stream stays TIGHTENED (no
     * clearance, no promotion on a certificate from the few outputs since the alarm), so a false alarm ends with the
     * old evidence window restored instead of a stream trusted again on a window of a few hundred outputs.
     */
    public static boolean confirmationPending(StreamRecord s) {
        return s.state() == TrustState.TIGHTENED && s.previousWindowSinceSeq() != null;
    }

    /** A drift alarm raised by the confidence detector on the decision path: the stream tightens at once. */
    public TrustUpdate confidenceAlarm(StreamRecord s, double statistic, long nextSeq, Instant now) {
        StreamRecord.Builder b = s.toBuilder();
        b.state = TrustState.TIGHTENED;
        b.stateSince = now;
        b.stateReviewed = 0;
        b.stateRejected = 0;
        b.samplingRate = 1.0;
        b.sampleConsecutiveAccepted = 0;
        b.samplesSinceRejection = -1;
        b.errorRateUpperBound = 1.0;
        b.policyVersion = s.policyVersion() + 1;
        b.confidenceCusum = statistic;
        startNewWindow(b, nextSeq, now);
        b.previousWindowSinceSeq = null;
        String why = String.format(Locale.ROOT, "drift alarm: CUSUM of the unlabelled confidence distribution %.2f "
                + "reached the limit %.2f (more outputs under the reference raw confidence %.4f than the %.0f %% "
                + "expected); evidence window restarted, threshold to be re-certified", statistic,
                config.drift().confidenceLimit(), s.confidenceReference() == null ? Double.NaN
                        : s.confidenceReference(), 100 * config.drift().confidenceQuantile());
        return new TrustUpdate(b.build(), s.state(), why, "confidence", false);
    }

    private void startNewWindow(StreamRecord.Builder b, long nextSeq, Instant now) {
        b.windowSinceSeq = nextSeq;
        b.windowSince = now;
        b.outcomeCusum = 0;
        b.confidenceCusum = 0;
        b.confidenceReference = null;
        b.thresholdCertified = false;
        b.thresholdPassShare = 0;
        b.rawThreshold = config.sampling().confidenceThreshold();
        b.certification = "evidence window restarted by a drift alarm: threshold not certified yet";
        b.blockingRate = 0;
        b.driftAlarms = b.driftAlarms + 1;
        b.windowDecided = 0;
    }
}
