package dev.tandem.audit.service;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.policy.SamplingDraw;
import dev.tandem.calibration.CalibrationMap;
import dev.tandem.calibration.Calibrator;

/**
 * Refits a stream's decision policy from its evidence window (every {@code fit.every-verdicts} verdicts, and
 * before the first decision of a stream that just earned NORMAL):
 * <ol>
 * <li>calibration ({@link Calibrator}) from every reviewed output, weighted by 1 / sampling probability;</li>
 * <li>the raw threshold λ, certified by {@link ThresholdCertifier} (the configured default when none is);</li>
 * <li>the blocking sample rate b = max(0, 1 − α/U) with α = A / s, s the share of outputs λ passes, and U the
 * upper (1 − δ) Beta bound of the error rate among the certification-sample outputs λ passes: the blocking share
 * of the trust sampling rate a = clip(1 − α/U, f, 1), so that outgoing errors per output, s·θ·(1 − b), stay under A
 * (0 when λ is certified, since then U ≤ α);</li>
 * <li>estimates over the window: the stream's error rate Σ y/π / N and the outgoing error rate
 * Σ_{shadow} y·(1 − b)/(π − b) / N with Fay–Feuer 95 % intervals ({@link WeightedRate});</li>
 * <li>in NORMAL/REDUCED, the sampling rate f ({@link #trustedRate}: {@code sampling.build-up-rate} while the
 * window's certification sample is under {@code sampling.build-up-samples}, then the state's rate; at least
 * {@code drift.alert-sampling-rate} while the outcome CUSUM is half-way to its limit);</li>
 * <li>in NORMAL/REDUCED, once the window holds {@code drift.confidence-reference-outputs} decisions, the reference
 * quantile of the confidence CUSUM;</li>
 * <li>with {@code drift.outcome-false-alarm-rate} set, the outcome CUSUM's limit h for the review probabilities of
 * the policy just fitted ({@link #outcomeLimit}).</li>
 * </ol>
 */
@ApplicationScoped
public class PolicyFitter {

    /** The calibration's held-out share is drawn from the decision id under its own seed, so a refit keeps it. */
    private static final String CALIBRATION_HOLDOUT_SEED = "tandem-calibration-holdout";

    private final AuditConfig config;

    public PolicyFitter(AuditConfig config) {
        this.config = config;
    }

    /** Fits from the window only (its certification-sample decisions are the certification sample). */
    public StreamRecord fit(StreamRecord s, List<WindowEntry> window, Instant now) {
        return fit(s, window, window.stream().filter(WindowEntry::certificationSample).toList(), now);
    }

    /**
     * @param window the most recent decisions of the evidence window (at most {@code fit.max-window})
     * @param certification every certification-sample decision of the evidence window (they are a few per cent of
     *        decisions, so the certificate can rest on a longer history than the unlabelled statistics)
     */
    public StreamRecord fit(StreamRecord s, List<WindowEntry> window, List<WindowEntry> certification, Instant now) {
        AuditConfig.Fit fit = config.fit();
        double target = config.target().forStream(s.key());
        double delta = config.target().delta();
        StreamRecord.Builder b = s.toBuilder();
        b.fittedReviews = s.reviewed();
        b.windowDecided = window.size();

        List<Calibrator.Sample> reviewed = new ArrayList<>();
        for (WindowEntry e : window) {
            if (e.reviewed()) {
                reviewed.add(new Calibrator.Sample(e.decisionId(), e.rawConfidence(), !e.rejected(),
                        1.0 / Math.max(e.samplingProbability(), 1e-9)));
            }
        }
        CalibrationMap calibration = Calibrator.fit(reviewed, fit.calibrationMinVerdicts(),
                sample -> SamplingDraw.uniform(CALIBRATION_HOLDOUT_SEED, sample.id()) < fit.calibrationHoldout(),
                fit.eceBins(), now);
        // While an outcome alarm awaits its SPRT, H0 is the calibration of the alarm: refitting it on the outputs
        // since the alarm would absorb the very drift under test.
        if (calibration != null && !TrustPolicy.confirmationPending(s)) {
            double[] shift = referenceShift(window, calibration, referenceCutoff(s, window));
            b.calibration = calibration.withReferenceShift(shift[0], shift[1]);
            if (config.drift().confirmationReference() == AuditConfig.Drift.ConfirmationReference.OWN_HISTORY) {
                // the whole window, the CUSUM's excursion included: cut where the CUSUM was last at 0, the history
                // ends on an error-free stretch by construction (an excursion starts with a rejection), and where the
                // CUSUM rarely returns to 0 (a 0.5 % worker) that read 35-45 % fewer errors than the stream makes
                b.calibration = historyShifts(window, b.calibration, Long.MAX_VALUE);
            }
        }

        boolean trusted = s.state() == TrustState.NORMAL || s.state() == TrustState.REDUCED;
        ThresholdCertifier.Certificate certificate = ThresholdCertifier.certify(window, certification, target, delta,
                fit.thresholdSteps());
        AuditConfig.Trust trust = config.trust();
        // The uncertified fallback with its blocking sample b = max(0, 1 - α/U) is the alternative: keep whichever
        // reviews less (both hold the target; choosing the cheaper of the two spends at most 2δ).
        Alternative fallback = uncertifiedFallback(window, certification, target, delta, trust);
        boolean useCertificate = certificate.certified()
                && 1 - certificate.passShare() <= fallback.reviewShare();
        double lambda = useCertificate ? certificate.threshold() : fallback.lambda();
        Alternative chosen = useCertificate ? atThreshold(window, certification, lambda, target, delta, trust)
                : fallback;
        b.rawThreshold = lambda;
        b.thresholdCertified = useCertificate;
        b.thresholdPassShare = useCertificate ? certificate.passShare() : fallback.passShare();
        b.certification = certificate.explanation();
        b.confidenceThreshold = CalibrationMap.apply(b.calibration, lambda);
        double blocking = useCertificate ? 0.0 : fallback.blocking();
        b.blockingRate = trusted ? blocking : 0.0;
        if (trusted) {
            b.errorRateUpperBound = ErrorRateBounds.upper(chosen.errors(), chosen.sampled(), trust.credibleLevel(),
                    trust.priorAlpha(), trust.priorBeta());
            if (!useCertificate) {
                b.certification = certificate.explanation() + String.format(Locale.ROOT,
                        "; %s in force with a %.1f %% blocking sample (%d errors in %d sampled "
                                + "passed outputs, %.1f %% bound %.2f %% vs limit %.2f %%)%s",
                        fallback.lambda() > 0 ? String.format(Locale.ROOT, "default threshold %.4f", lambda)
                                : "no confidence threshold (gates only)",
                        100 * blocking, fallback.errors(), fallback.sampled(), 100 * (1 - fallback.delta()),
                        100 * fallback.upper(), 100 * fallback.alpha(),
                        certificate.certified() ? ", which reviews less than the certified threshold" : "");
            }
        }

        // The outcome CUSUM's limit from what the stream will review under this policy (trusted: f before any
        // half-way alert, which must not raise h mid-excursion; otherwise what NORMAL will sample once trust returns).
        // Frozen with the calibration while an alarm awaits its SPRT, and while the CUSUM is in an excursion.
        if (b.calibration != null && !TrustPolicy.confirmationPending(s) && !limitFrozen(s)) {
            double f = trusted ? policyRate(s, certification)
                    : trustedRate(TrustState.NORMAL, certificationSamples(certification));
            b.outcomeLimit = outcomeLimit(window, b.calibration, lambda, Math.max(blocking, f));
        }
        if (trusted) {
            b.samplingRate = TrustPolicy.samplingRateAt(config.drift(), TrustPolicy.outcomeLimit(config.drift(),
                    b.build()), policyRate(s, certification), s.outcomeCusum());
        }
        estimate(b, window);
        b.projectedPassShare = Math.max(useCertificate ? certificate.passShare() : 0,
                projectedPassShare(window, b.calibration, target));

        AuditConfig.Drift drift = config.drift();
        if (trusted && b.confidenceReference == null && window.size() >= drift.confidenceReferenceOutputs()) {
            double[] raws = window.stream().mapToDouble(WindowEntry::rawConfidence).sorted().toArray();
            b.confidenceReference = raws[(int) Math.floor(drift.confidenceQuantile() * (raws.length - 1))];
            b.confidenceCusum = 0;
        }
        if (policyChanged(s, b) || s.samplingRate() != b.samplingRate) {
            b.policyVersion = s.policyVersion() + 1;
        }
        return b.build();
    }

    /**
     * Whether a refit keeps the stream's derived outcome limit: {@code drift.outcome-limit-frozen-in-excursion} with
     * a limit already derived and the outcome CUSUM above 0. Siegmund's run length to a false alarm is that of one h
     * per excursion; a limit re-derived at every refit along an excursion (the review rate, λ and γ move from refit
     * to refit) lets the excursion end at the lowest of them, so false alarms would exceed the budget the limit is
     * derived for. The new limit applies from the first refit after the CUSUM is back at 0.
     */
    boolean limitFrozen(StreamRecord s) {
        return config.drift().outcomeLimitFrozenInExcursion() && s.outcomeLimit() > 0 && s.outcomeCusum() > 0;
    }

    /**
     * The first decision γ̂ is not fitted on. With {@code drift.reference-lag} L: the window's last min(L, n/2)
     * decisions are left out, a cut that depends only on how many outputs were decided, not on their outcomes, so
     * on a stationary stream γ̂ is unbiased, while a drift stays out of its own reference for its first L outputs
     * and is diluted by the window after that. Without it, where the CUSUM's current excursion began
     * ({@link #excursionStart}): the drift is kept out however long it lasts, but that history ends on an
     * error-free stretch by construction (an excursion starts with a rejection), which biases γ̂ low where the
     * CUSUM rarely returns to 0 (issue 18: −0.43 to −0.56 in the 0.5 % families).
     */
    long referenceCutoff(StreamRecord s, List<WindowEntry> window) {
        int lag = config.drift().referenceLag();
        if (lag <= 0) {
            return excursionStart(s);
        }
        int n = window.size();
        int keep = n - Math.min(lag, n / 2);
        if (keep >= n) {
            return Long.MAX_VALUE;
        }
        long[] seqs = window.stream().mapToLong(WindowEntry::seq).sorted().toArray();
        return seqs[keep];
    }

    /**
     * First decision of the outcome CUSUM's current excursion, or {@code Long.MAX_VALUE} when there is none (the
     * CUSUM is at 0, or was last at 0 before the window began, as in rows stored before it was recorded).
     */
    static long excursionStart(StreamRecord s) {
        return s.outcomeCusum() > 0 && s.cusumBaseSeq() > s.windowSinceSeq() ? s.cusumBaseSeq() : Long.MAX_VALUE;
    }

    /**
     * {γ, γ̂}: the outcome CUSUM's reference shift γ ({@link DriftDetectors#referenceShift}) and the estimate γ̂
     * without its margin (the confirming SPRT's H₀), from the window's outputs the
     * CUSUM sees in a trusted state (low-confidence and sampled reviews; not probation's or tightened reviews,
     * whose mix of confidences differs), against the new calibration, and only those decided before the CUSUM's
     * current excursion began ({@code before}). The calibration itself is refitted on the whole window, drift
     * included; γ measured on the outputs before the excursion pulls the reference back to what they showed, so a
     * drift that has moved the calibration is still tested against the stream as it was (issue 18).
     */
    double[] referenceShift(List<WindowEntry> window, CalibrationMap calibration, long before) {
        AuditConfig.Drift drift = config.drift();
        List<WindowEntry> seen = window.stream().filter(e -> e.seq() < before && e.reviewed() && e.reason() != null
                && switch (e.reason()) {
                    case LOW_CONFIDENCE, RANDOM_SAMPLE, OUTGOING_LIMIT -> true;
                    default -> false;
                }).toList();
        return new double[] { shift(seen, calibration, drift.referenceMargin()), shift(seen, calibration, 0) };
    }

    /** {@link DriftDetectors#referenceShift} of reviewed outputs against the calibration, expected errors floored. */
    private double shift(List<WindowEntry> reviewed, CalibrationMap calibration, double margin) {
        double floor = config.drift().expectedErrorFloor();
        double[] expected = new double[reviewed.size()];
        boolean[] rejected = new boolean[reviewed.size()];
        for (int i = 0; i < expected.length; i++) {
            WindowEntry e = reviewed.get(i);
            expected[i] = Math.min(1 - floor, Math.max(floor, 1 - calibration.apply(e.rawConfidence())));
            rejected[i] = e.rejected();
        }
        return DriftDetectors.referenceShift(expected, rejected, margin);
    }

    /**
     * The {@code own-history} confirmation's H₀ (issue 18): the window's outputs decided before {@code before} in {@code drift.confirmation-bins} bins of raw confidence holding equal numbers of
     * decided outputs (the mix a TIGHTENED stream reviews), and per bin the log-odds shift against the calibration
     * that every reviewed output of the bin shows, whatever its reason (the review depends only on the output's
     * confidence and independent draws, so at each confidence the reviewed outputs are a fair sample, and the
     * calibration carries the shape within the bin; weighting them 1/π, tried first, let a few sampled reviews
     * stand for a whole bin and pulled its shift far from 0 on a handful of errors), posterior mode under the N(0, 1)
     * prior of γ̂. A calibration that misfits part of the confidence range is then tested
     * against what that part showed before the alarm, not against a shift fitted on another mix. The map unchanged
     * when nothing before the excursion was reviewed.
     */
    CalibrationMap historyShifts(List<WindowEntry> window, CalibrationMap calibration, long before) {
        List<WindowEntry> history = window.stream().filter(e -> e.seq() < before).toList();
        if (history.stream().noneMatch(WindowEntry::reviewed)) {
            return calibration;
        }
        int bins = Math.max(1, config.drift().confirmationBins());
        double[] raws = history.stream().mapToDouble(WindowEntry::rawConfidence).sorted().toArray();
        double[] edges = new double[bins - 1];
        for (int k = 1; k < bins; k++) {
            edges[k - 1] = raws[(int) Math.floor((double) k * raws.length / bins)];
        }
        List<List<WindowEntry>> byBin = new ArrayList<>();
        for (int k = 0; k < bins; k++) {
            byBin.add(new ArrayList<>());
        }
        for (WindowEntry e : history) {
            if (e.reviewed()) {
                int k = 0;
                while (k < edges.length && e.rawConfidence() >= edges[k]) {
                    k++;
                }
                byBin.get(k).add(e);
            }
        }
        double[] shifts = new double[bins];
        for (int k = 0; k < bins; k++) {
            shifts[k] = shift(byBin.get(k), calibration, 0);
        }
        return calibration.withHistoryShifts(edges, shifts);
    }

    /**
     * The outcome CUSUM's limit h for a stream reviewing, under threshold λ, every output under it (and every output a
     * validation gate failed) and a share {@code passedRate} = max(b, f) of the others: I₀ = Σ r_i·KL(p_i ‖ p_i,R) / N
     * over the window's N decided outputs, p_i the CUSUM's reference for output i (calibration shifted by γ), then
     * {@link DriftDetectors#outcomeLimit} for {@code drift.outcome-false-alarm-rate}. The review probabilities are the
     * policy's, not the reviews the window happens to hold, so h follows the review rate as it changes (the build-up
     * rate giving way to f, λ moving): a refit that lowers the review rate lowers h. 0 (the configured limit applies)
     * when the budget is off; {@code drift.outcome-limit} itself when I₀ is under {@code drift.outcome-information-floor}.
     */
    double outcomeLimit(List<WindowEntry> window, CalibrationMap calibration, double lambda, double passedRate) {
        AuditConfig.Drift drift = config.drift();
        if (drift.outcomeFalseAlarmRate() <= 0 || window.isEmpty()) {
            return 0;
        }
        double gamma = calibration.referenceLogOdds();
        double information = 0;
        for (WindowEntry e : window) {
            double r = !e.validationPassed() || e.rawConfidence() < lambda ? 1 : passedRate;
            double p = DriftDetectors.reference(1 - calibration.apply(e.rawConfidence()), gamma,
                    drift.expectedErrorFloor());
            information += r * DriftDetectors.informationAgainstChange(p, drift.oddsRatio());
        }
        if (information / window.size() < drift.outcomeInformationFloor()) {
            // few errors per output: a false alarm costs the most tightened reviews here, so no h below the limit
            return drift.outcomeLimit();
        }
        return DriftDetectors.outcomeLimit(information / window.size(), drift.outcomeFalseAlarmRate(),
                drift.oddsRatio(), drift.outcomeLimit());
    }

    /**
     * f in NORMAL: {@code sampling.build-up-rate} while the window's certification sample is under
     * {@code sampling.build-up-samples}, then {@code sampling.normal-rate}. The rate is chosen from past outputs only
     * and the draw ignores the output, so the certification sample stays a simple random sample.
     */
    double normalRate(long certificationSamples) {
        return trustedRate(TrustState.NORMAL, certificationSamples);
    }

    /** f of a trusted stream before the drift alert ({@link TrustPolicy#samplingRateAt}) raises it. */
    double policyRate(StreamRecord s, List<WindowEntry> certification) {
        return trustedRate(s.state(), certificationSamples(certification));
    }

    /** f in NORMAL or REDUCED: the build-up rate first, in both (REDUCED's lower rate would starve it). */
    double trustedRate(TrustState state, long certificationSamples) {
        AuditConfig.Sampling sampling = config.sampling();
        double rate = state == TrustState.REDUCED ? sampling.reducedRate() : sampling.normalRate();
        return certificationSamples < sampling.buildUpSamples() ? Math.max(rate, sampling.buildUpRate()) : rate;
    }

    private static long certificationSamples(List<WindowEntry> certification) {
        return certification.stream().filter(e -> e.certificationSample() && e.reviewed() && e.validationPassed())
                .count();
    }

    /** A threshold's pass share, its certification-sample evidence, U and the blocking rate it would need. */
    /** An uncertified threshold λ with the blocking sample that holds the target at it, bounded at risk δ. */
    private record Alternative(double lambda, double delta, double passShare, long sampled, long errors,
            double alpha, double upper, double blocking) {

        /** The share of outputs it reviews blocking: what fails λ, and the blocking sample of what passes. */
        double reviewShare() {
            return 1 - passShare * (1 - blocking);
        }
    }

    /**
     * The uncertified policy: the configured default threshold, or, when {@code sampling.gates-only-fallback} is on,
     * the cheaper of it and no confidence threshold at all (λ = 0: every output that passed its gates, the blocking
     * sample sized on all of them). A confidence that is low for outputs that are right (a worker whose scale is not
     * a probability) would otherwise keep the default threshold reviewing them until a threshold is certified. The
     * choice is made on the same sample as the bounds, so each is taken at δ/2: whichever is chosen holds the target
     * with probability at least 1 - δ, as the default alone did at δ.
     */
    private Alternative uncertifiedFallback(List<WindowEntry> window, List<WindowEntry> certification, double target,
            double delta, AuditConfig.Trust trust) {
        double defaultLambda = config.sampling().confidenceThreshold();
        if (!config.sampling().gatesOnlyFallback() || defaultLambda <= 0) {
            return atThreshold(window, certification, defaultLambda, target, delta, trust);
        }
        Alternative atDefault = atThreshold(window, certification, defaultLambda, target, delta / 2, trust);
        Alternative gatesOnly = atThreshold(window, certification, 0.0, target, delta / 2, trust);
        return gatesOnly.reviewShare() < atDefault.reviewShare() ? gatesOnly : atDefault;
    }

    private static Alternative atThreshold(List<WindowEntry> window, List<WindowEntry> certification, double lambda,
            double target, double delta, AuditConfig.Trust trust) {
        long passed = 0;
        for (WindowEntry e : window) {
            if (e.validationPassed() && e.rawConfidence() >= lambda) {
                passed++;
            }
        }
        long sampled = 0;
        long errors = 0;
        for (WindowEntry e : certification) {
            if (e.validationPassed() && e.rawConfidence() >= lambda && e.reviewed()) {
                sampled++;
                errors += e.rejected() ? 1 : 0;
            }
        }
        double share = window.isEmpty() ? 1.0 : (double) passed / window.size();
        double alpha = share <= 0 ? 1.0 : Math.min(1.0, target / share);
        double upper = ErrorRateBounds.upper(errors, sampled, 1 - delta, trust.priorAlpha(), trust.priorBeta());
        return new Alternative(lambda, delta, share, sampled, errors, alpha, upper, Math.max(0.0, 1 - alpha / upper));
    }

    /**
     * The steady-state pass share a trusted stream can expect: the largest share k/N of the window's outputs such
     * that passing its k most confident (gates passed) outputs keeps the calibrated expected errors among them,
     * Σ (1 − c(raw)) / N, under A. A point estimate without the certificate's finite-sample slack: it prices the
     * stream's future reviews (the router retires a stream from exploration when even this share cannot beat the
     * oracle), it certifies nothing. 0 without a calibration.
     */
    static double projectedPassShare(List<WindowEntry> window, CalibrationMap calibration, double target) {
        if (calibration == null || window.isEmpty()) {
            return 0;
        }
        double[] raws = window.stream().filter(WindowEntry::validationPassed).mapToDouble(WindowEntry::rawConfidence)
                .sorted().toArray();
        double budget = target * window.size();
        double errors = 0;
        int passed = 0;
        for (int i = raws.length - 1; i >= 0; i--) {
            errors += 1 - calibration.apply(raws[i]);
            if (errors > budget) {
                break;
            }
            passed++;
        }
        return (double) passed / window.size();
    }

    private static void estimate(StreamRecord.Builder b, List<WindowEntry> window) {
        double errT = 0, errV = 0, errMax = 1;
        double outT = 0, outV = 0, outMax = 1;
        for (WindowEntry e : window) {
            double pi = Math.max(e.samplingProbability(), 1e-9);
            errMax = Math.max(errMax, 1 / pi);
            boolean outgoingEligible = e.mode() != ReviewMode.BLOCKING;
            double shadowP = pi - e.blockingProbability();
            double wOut = shadowP > 0 ? (1 - e.blockingProbability()) / shadowP : 1;
            if (outgoingEligible) {
                outMax = Math.max(outMax, wOut);
            }
            if (e.rejected()) {
                errT += 1 / pi;
                errV += 1 / (pi * pi);
                if (e.mode() == ReviewMode.SHADOW) {
                    outT += wOut;
                    outV += wOut * wOut;
                }
            }
        }
        WeightedRate error = WeightedRate.of(errT, errV, errMax, window.size(), 0.95);
        WeightedRate outgoing = WeightedRate.of(outT, outV, outMax, window.size(), 0.95);
        b.errorRate = error.estimate();
        b.outgoingErrorRate = outgoing.estimate();
        b.outgoingErrorLower = outgoing.lower();
        b.outgoingErrorUpper = outgoing.upper();
    }

    private static boolean policyChanged(StreamRecord s, StreamRecord.Builder b) {
        return s.rawThreshold() != b.rawThreshold || s.thresholdCertified() != b.thresholdCertified
                || s.blockingRate() != b.blockingRate || !Objects.equals(s.confidenceReference(), b.confidenceReference)
                || !sameCalibration(s.calibration(), b.calibration);
    }

    private static boolean sameCalibration(CalibrationMap x, CalibrationMap y) {
        if (x == null || y == null) {
            return x == y;
        }
        return Arrays.equals(x.raw(), y.raw()) && Arrays.equals(x.calibrated(), y.calibrated());
    }
}
