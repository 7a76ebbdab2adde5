package dev.tandem.audit.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import dev.tandem.audit.TrustState;

/**
 * Seeded simulations through the real policy classes: the outgoing error stays under the target across worker
 * error rates, a new good stream leaves full review on evidence, and a doubling of the error odds is caught.
 * Small on purpose (seconds); the full-size runs are the benchmark (bin/bench-audit).
 */
class OutgoingErrorSimulationTests {

    /**
     * Review-share bands per worker error rate (same seed, 8,000 outputs, AUROC ≈ 0.85): a 0.5 % worker is mostly
     * not reviewed, a 10 % worker mostly is (no threshold can keep 1 % outgoing without reviewing most of it). The
     * upper bounds fail when the policy reviews more than its confidence rule needs (e.g. everything), the lower one
     * when a bad worker's outputs pass unreviewed. Measured at this seed: 10.6 %, 28.7 %, 57.5 %, 100 %.
     */
    @ParameterizedTest(name = "worker error {0}")
    @CsvSource({ "0.005, 0.00, 0.25", "0.02, 0.00, 0.50", "0.05, 0.00, 0.80", "0.10, 0.50, 1.00" })
    void theOutgoingErrorStaysUnderTheTarget(double errorRate, double minReviewShare, double maxReviewShare) {
        SimulatedWorker worker = new SimulatedWorker(errorRate, 2.0, 0.7);
        SplittableRandom rng = new SplittableRandom(42);
        SimulatedStream stream = new SimulatedStream(SimConfigs.defaults(), "e" + errorRate + "-");
        int n = 8_000;
        for (int i = 0; i < n; i++) {
            stream.accept(worker.next(rng));
        }
        double outgoing = (double) stream.outgoingErrors() / n;
        assertThat(outgoing).as("outgoing error at worker error %s", errorRate).isLessThanOrEqualTo(0.01);
        assertThat((double) stream.reviews() / n).as("review share at worker error %s", errorRate)
                .isBetween(minReviewShare, maxReviewShare);
        // the refit's IPW estimate of the outgoing error brackets the realised one: both ends, in every state
        var s = stream.stream();
        assertThat(outgoing).as("realised outgoing error within the estimate's interval [%s, %s]",
                s.outgoingErrorLower(), s.outgoingErrorUpper())
                .isBetween(s.outgoingErrorLower(), s.outgoingErrorUpper());
    }

    @Test
    void aGoodNewStreamLeavesFullReviewOnEvidenceWithin300Outputs() {
        SimulatedWorker good = new SimulatedWorker(0.005, 2.0, 0.7);
        int late = 0;
        for (int seed = 0; seed < 20; seed++) {
            SplittableRandom rng = new SplittableRandom(seed);
            SimulatedStream stream = new SimulatedStream(SimConfigs.defaults(), "g" + seed + "-");
            for (int i = 0; i < 300 && stream.firstTrustedAt() < 0; i++) {
                stream.accept(good.next(rng));
            }
            if (stream.firstTrustedAt() < 0) {
                late++;
            } else {
                assertThat(stream.firstTrustedAt()).as("never before the evidence").isGreaterThanOrEqualTo(40);
            }
        }
        assertThat(late).as("streams still in probation after 300 outputs").isLessThanOrEqualTo(2);
    }

    @Test
    void aBadNewStreamDoesNotLeaveFullReview() {
        SimulatedWorker bad = new SimulatedWorker(0.15, 0.5, 2.0); // 15 % errors, confidence nearly useless
        SplittableRandom rng = new SplittableRandom(7);
        SimulatedStream stream = new SimulatedStream(SimConfigs.defaults(), "bad-");
        for (int i = 0; i < 1500; i++) {
            stream.accept(bad.next(rng));
        }
        assertThat(stream.outgoingErrors()).isLessThanOrEqualTo(15);
        assertThat(stream.firstTrustedAt()).as("output at which the stream first earned trust").isEqualTo(-1);
        // 15 % errors is far above what the clearance rule (2 %) accepts: every output stays reviewed
        assertThat(stream.stream().state()).isIn(TrustState.TIGHTENED, TrustState.SUSPENDED);
    }

    /**
     * A doubling (not more) of every output's error odds, with the reported confidence unchanged, tightens a trusted
     * stream within 3,000 outputs (issue 5's p95 goal), while the same stream without the change does not tighten in
     * those outputs: the alarm is the drift's, not a false one. Both runs see the same draws (the worker consumes the
     * same random numbers whatever its odds), so they are identical up to the change.
     */
    @Test
    void aDoublingOfTheErrorOddsTightensTheStream() {
        long drifted = outputsUntilTightening(2.0);
        long control = outputsUntilTightening(1.0);
        assertThat(drifted).as("outputs from the doubling to the first tightening").isBetween(1L, 3_000L);
        assertThat(control).as("the same stream without the doubling tightens only after").isGreaterThan(3_000L);
    }

    /** Outputs after the change until the first tightening (Long.MAX_VALUE if none within 10,000). */
    private static long outputsUntilTightening(double oddsFactor) {
        SimulatedWorker worker = new SimulatedWorker(0.02, 2.0, 0.7);
        SplittableRandom rng = new SplittableRandom(5);
        SimulatedStream stream = new SimulatedStream(SimConfigs.defaults(), "d-");
        for (int i = 0; i < 6000; i++) {
            stream.accept(worker.next(rng));
        }
        assertThat(stream.stream().state()).as("trusted when the odds change").isEqualTo(TrustState.NORMAL);
        int before = stream.tightenings().size();
        worker.multiplyErrorOdds(oddsFactor);
        long changeAt = stream.outputs();
        for (int i = 0; i < 10_000 && stream.tightenings().size() == before; i++) {
            stream.accept(worker.next(rng));
        }
        return stream.tightenings().size() == before ? Long.MAX_VALUE : stream.tightenings().get(before)[0] - changeAt;
    }
}
