package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.simulation.SimConfigs;
import dev.tandem.calibration.CalibrationMap;

/**
 * The {@code own-history} confirmation of an outcome alarm (issue 18): the SPRT tests the tightened reviews against
 * the stream's own error rate before the alarm at comparable confidence, so a calibration that misfits the confident
 * outputs all along (which TIGHTENED now reviews) is not confirmed as a change, while a real doubling still is.
 */
class OwnHistoryConfirmationTests {

    private static final double LOW = 0.7; // calibrated expected error 30 %, and the stream's true rate
    private static final double HIGH = 0.99; // calibrated 1 %, the stream's true rate about 3 % (odds 3x)
    private static final long OLD_WINDOW = 100;
    private static final long ALARM_SEQ = 5000;

    private final Instant now = Instant.parse("2026-12-07T18:00:00Z");
    private final AuditConfig ownHistory = SimConfigs.with(
            Map.of("tandem.audit.drift.confirmation-reference", "own-history"));
    private final AuditConfig shipped = SimConfigs.defaults();

    @Test
    void eachConfidenceBinGetsTheShiftItsOwnReviewsShow() {
        CalibrationMap fitted = new PolicyFitter(ownHistory).historyShifts(history(new SplittableRandom(1)),
                calibration(), Long.MAX_VALUE);
        assertThat(fitted.hasHistoryShifts()).isTrue();
        assertThat(fitted.historyLogOdds(LOW)).as("the calibration fits the low-confidence outputs")
                .isCloseTo(0, within(0.15));
        assertThat(fitted.historyLogOdds(HIGH)).as("and under-predicts the confident ones by an odds factor 3")
                .isCloseTo(Math.log(3), within(0.3));
    }

    @Test
    void theShippedReferenceFitsNoBins() {
        PolicyFitter fitter = new PolicyFitter(shipped);
        StreamRecord s = fitter.fit(stream(calibration()), history(new SplittableRandom(2)), now);
        assertThat(s.calibration().hasHistoryShifts()).isFalse();
        s = new PolicyFitter(ownHistory).fit(stream(calibration()), history(new SplittableRandom(2)), now);
        assertThat(s.calibration().hasHistoryShifts()).isTrue();
    }

    @Test
    void aMiscalibratedButStationaryStreamsAlarmIsNotConfirmedAndKeepsItsWindow() {
        int confirmedOwn = 0;
        int confirmedShipped = 0;
        for (long seed = 0; seed < 40; seed++) {
            confirmedOwn += confirmed(ownHistory, seed, 1.0) ? 1 : 0;
            confirmedShipped += confirmed(shipped, seed, 1.0) ? 1 : 0;
        }
        // against the calibration shifted by one γ̂ that fits the low-confidence reviews, the confident outputs'
        // misfit reads as the doubling itself; against the stream's own history it is what the stream always did
        assertThat(confirmedShipped).as("confirmed against the calibration, of 40").isGreaterThanOrEqualTo(25);
        assertThat(confirmedOwn).as("confirmed against the stream's own history, of 40").isLessThanOrEqualTo(6);
    }

    @Test
    void aRealDoublingIsStillConfirmed() {
        int confirmed = 0;
        for (long seed = 0; seed < 40; seed++) {
            confirmed += confirmed(ownHistory, seed, 2.0) ? 1 : 0;
        }
        assertThat(confirmed).as("doublings confirmed against the stream's own history, of 40")
                .isGreaterThanOrEqualTo(34);
    }

    @Test
    void aMapWithoutBinsFallsBackToTheEstimatedShift() {
        TrustPolicy policy = new TrustPolicy(ownHistory);
        StreamRecord.Builder b = stream(calibration().withReferenceShift(Math.log(1.5), 0)).toBuilder();
        b.outcomeCusum = ownHistory.drift().outcomeLimit() - 0.1;
        StreamRecord s = policy.apply(b.build(), Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, LOW, ALARM_SEQ, now)
                .stream();
        s = policy.apply(s, Verdict.REJECTED, AuditReason.TIGHTENED, HIGH, ALARM_SEQ + 1, now).stream();
        assertThat(s.confirmationLlr()).isCloseTo(Math.log(2) - Math.log(1.01), within(1e-9));
    }

    /**
     * One alarm of a stream whose history is {@link #history} and whose tightened outputs (5 % low-confidence, the
     * rest confident, like its decided outputs) make errors at {@code oddsFactor} times its historical odds:
     * whether the SPRT confirmed the drift (the window since the alarm stands) rather than keeping the old window.
     */
    private boolean confirmed(AuditConfig config, long seed, double oddsFactor) {
        SplittableRandom rng = new SplittableRandom(seed);
        CalibrationMap map = calibration().withReferenceShift(0, 0); // γ̂ = 0: what the low-confidence reviews show
        if (config.drift().confirmationReference() == AuditConfig.Drift.ConfirmationReference.OWN_HISTORY) {
            map = new PolicyFitter(config).historyShifts(history(new SplittableRandom(1000 + seed)), map,
                    Long.MAX_VALUE);
        }
        TrustPolicy policy = new TrustPolicy(config);
        StreamRecord.Builder b = stream(map).toBuilder();
        b.outcomeCusum = config.drift().outcomeLimit() - 0.1;
        StreamRecord s = policy.apply(b.build(), Verdict.REJECTED, AuditReason.LOW_CONFIDENCE, LOW, ALARM_SEQ, now)
                .stream();
        assertThat(TrustPolicy.confirmationPending(s)).isTrue();
        for (int i = 0; i < 2 * config.drift().confirmationMaxReviews() && TrustPolicy.confirmationPending(s); i++) {
            double raw = rng.nextDouble() < 0.05 ? LOW : HIGH;
            boolean wrong = rng.nextDouble() < withOdds(trueError(raw), oddsFactor);
            s = policy.apply(s, wrong ? Verdict.REJECTED : Verdict.ACCEPTED, AuditReason.TIGHTENED, raw,
                    ALARM_SEQ + 1 + i, now).stream();
        }
        assertThat(TrustPolicy.confirmationPending(s)).isFalse();
        assertThat(s.windowSinceSeq()).isIn(OLD_WINDOW, ALARM_SEQ);
        return s.windowSinceSeq() == ALARM_SEQ;
    }

    /** The window before the alarm: 200 low-confidence outputs, all reviewed; 3,800 confident, half sampled. */
    private static List<WindowEntry> history(SplittableRandom rng) {
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < 4000; i++) {
            boolean low = i % 20 == 0;
            double raw = low ? LOW : HIGH;
            boolean reviewed = low || rng.nextDouble() < 0.5;
            Verdict v = !reviewed ? null : rng.nextDouble() < trueError(raw) ? Verdict.REJECTED : Verdict.ACCEPTED;
            window.add(new WindowEntry("h" + i, OLD_WINDOW + i, raw, true, reviewed ? AuditAction.REVIEW
                    : AuditAction.PASS, reviewed ? (low ? ReviewMode.BLOCKING : ReviewMode.SHADOW) : ReviewMode.NONE,
                    low ? AuditReason.LOW_CONFIDENCE : reviewed ? AuditReason.RANDOM_SAMPLE : AuditReason.TRUSTED,
                    low ? 1.0 : 0.5, 0, !low, v));
        }
        return window;
    }

    private static double trueError(double raw) {
        return raw == LOW ? 0.3 : withOdds(0.01, 3);
    }

    private static double withOdds(double p, double factor) {
        double odds = factor * p / (1 - p);
        return odds / (1 + odds);
    }

    private CalibrationMap calibration() {
        return new CalibrationMap("ISOTONIC", new double[] { LOW, HIGH }, new double[] { LOW, HIGH }, 4000, 0, 0, 0,
                0, 0, now);
    }

    private StreamRecord stream(CalibrationMap map) {
        StreamRecord.Builder b = new TrustPolicy(shipped).newStream(new StreamKey("sim", "classify", ""), now)
                .toBuilder();
        b.state = TrustState.NORMAL;
        b.samplingRate = 0.02;
        b.thresholdCertified = true;
        b.rawThreshold = 0.9;
        b.windowSinceSeq = OLD_WINDOW;
        b.calibration = map;
        return b.build();
    }
}
