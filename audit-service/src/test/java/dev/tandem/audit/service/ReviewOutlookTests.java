package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
import org.junit.jupiter.api.Test;

/** What a stream's next output will cost in reviews (the router prices candidates with it), and its target A. */
class ReviewOutlookTests {

    private final AuditConfig config = SimConfigs.defaults();
    private final StreamRecord probation = new TrustPolicy(config).newStream(new StreamKey("small", "classify", ""),
            Instant.EPOCH);

    @Test
    void everyOutputIsReviewedUntilTrustIsEarned() {
        for (TrustState state : List.of(TrustState.PROBATION, TrustState.TIGHTENED, TrustState.SUSPENDED)) {
            StreamRecord.Builder b = probation.toBuilder();
            b.state = state;
            b.projectedPassShare = 0.8;
            ReviewOutlook o = ReviewOutlook.of(b.build(), 0.02);
            assertThat(o.reviewProbability()).isEqualTo(1.0);
            assertThat(o.blockingProbability()).isEqualTo(1.0);
            assertThat(o.projectedReviewProbability()).isCloseTo(0.2 + 0.8 * 0.02, within(1e-12));
        }
        assertThat(ReviewOutlook.of(probation, 0.02).projectedReviewProbability()).isEqualTo(1.0);
    }

    @Test
    void aTrustedStreamWithoutACertificateIsPricedOnItsDefaultThresholdsPassShareAndBlockingSample() {
        // right after clearance: no calibration yet (nothing projected), the default threshold passes 80 %
        StreamRecord.Builder b = probation.toBuilder();
        b.state = TrustState.NORMAL;
        b.thresholdCertified = false;
        b.thresholdPassShare = 0.8;
        b.projectedPassShare = 0;
        b.samplingRate = 0.10;
        b.blockingRate = 0.4;

        ReviewOutlook o = ReviewOutlook.of(b.build(), 0.02);

        assertThat(o.reviewProbability()).isCloseTo(0.2 + 0.8 * 0.4, within(1e-12));
        assertThat(o.blockingProbability()).isCloseTo(0.2 + 0.8 * 0.4, within(1e-12));
        assertThat(o.projectedReviewProbability()).isEqualTo(1.0);
    }

    @Test
    void aTrustedStreamReviewsWhatItsThresholdHoldsBackPlusTheSampleOfTheRest() {
        StreamRecord.Builder b = probation.toBuilder();
        b.state = TrustState.NORMAL;
        b.thresholdCertified = true;
        b.thresholdPassShare = 0.7;
        b.projectedPassShare = 0.75;
        b.samplingRate = 0.10;
        b.blockingRate = 0.0;

        ReviewOutlook o = ReviewOutlook.of(b.build(), 0.02);

        assertThat(o.reviewProbability()).isCloseTo(0.3 + 0.7 * 0.10, within(1e-12));
        assertThat(o.blockingProbability()).isCloseTo(0.3, within(1e-12));
        assertThat(o.projectedReviewProbability()).isCloseTo(0.25 + 0.75 * 0.02, within(1e-12));

        b.blockingRate = 0.4; // a blocking sample while the bound is above the limit
        ReviewOutlook blocking = ReviewOutlook.of(b.build(), 0.02);
        assertThat(blocking.reviewProbability()).isCloseTo(0.3 + 0.7 * 0.4, within(1e-12));
        assertThat(blocking.blockingProbability()).isCloseTo(0.3 + 0.7 * 0.4, within(1e-12));
    }

    @Test
    void theProjectedPassShareKeepsTheCalibratedErrorsOfPassedOutputsUnderTheTarget() {
        // calibration: raw 0.2 -> 60 % right, raw 0.9 -> 99 % right; half the outputs at each
        CalibrationMap calibration = new CalibrationMap("isotonic", new double[] {0.2, 0.9},
                new double[] {0.6, 0.99}, 100, 0, 0, 0, 0, 0, Instant.EPOCH);
        List<WindowEntry> window = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            window.add(new WindowEntry("d" + i, i, i % 2 == 0 ? 0.2 : 0.9, true, AuditAction.REVIEW,
                    ReviewMode.BLOCKING, AuditReason.PROBATION, 1.0, 1.0, false, Verdict.ACCEPTED));
        }
        // A = 1 %: the 50 confident outputs carry 0.5 expected errors per 100 outputs; one more at raw 0.2 adds 0.4
        assertThat(PolicyFitter.projectedPassShare(window, calibration, 0.01)).isCloseTo(0.51, within(1e-12));
        // A = 0.205 %: only 20 of the confident ones fit
        assertThat(PolicyFitter.projectedPassShare(window, calibration, 0.00205)).isCloseTo(0.20, within(1e-12));
        assertThat(PolicyFitter.projectedPassShare(window, null, 0.01)).isZero();
    }

    @Test
    void theOutgoingErrorTargetIsSetPerWorkerTypeAndOverriddenPerTenant() {
        AuditConfig.Target target = SimConfigs.with(Map.of(
                "tandem.audit.target.outgoing-error-rate", "0.01",
                "tandem.audit.target.worker-types.\"extract\"", "0.02",
                "tandem.audit.target.tenants.\"acme\"", "0.005",
                "tandem.audit.target.tenants.\"acme/summarize\"", "0.03")).target();

        assertThat(target.forStream(new StreamKey("m", "classify", ""))).isEqualTo(0.01);
        assertThat(target.forStream(new StreamKey("m", "extract", ""))).isEqualTo(0.02);
        assertThat(target.forStream(new StreamKey("m", "extract", "acme"))).isEqualTo(0.005);
        assertThat(target.forStream(new StreamKey("m", "summarize", "acme"))).isEqualTo(0.03);
        assertThat(target.forStream(new StreamKey("m", "extract", "globex"))).isEqualTo(0.02);
    }
}
