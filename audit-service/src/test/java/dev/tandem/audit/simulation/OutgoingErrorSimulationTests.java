package dev.tandem.audit.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
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

    @ParameterizedTest(name = "worker error {0}")
    @CsvSource({ "0.005", "0.02", "0.05", "0.10" })
    void theOutgoingErrorStaysUnderTheTarget(double errorRate) {
        SimulatedWorker worker = new SimulatedWorker(errorRate, 2.0, 0.7);
        SplittableRandom rng = new SplittableRandom(42);
        SimulatedStream stream = new SimulatedStream(SimConfigs.defaults(), "e" + errorRate + "-");
        int n = 8_000;
        for (int i = 0; i < n; i++) {
            stream.accept(worker.next(rng));
        }
        double outgoing = (double) stream.outgoingErrors() / n;
        assertThat(outgoing).as("outgoing error at worker error %s", errorRate).isLessThanOrEqualTo(0.01);
        assertThat(stream.reviews()).as("a 10 %% worker is mostly reviewed, a 0.5 %% worker mostly not")
                .isLessThan(errorRate <= 0.005 ? n / 4 : n + 1);
        // the IPW estimate of the refit agrees with the truth within its interval (or the stream passes nothing)
        var s = stream.stream();
        if (s.state() == TrustState.NORMAL || s.state() == TrustState.REDUCED) {
            assertThat(s.outgoingErrorLower()).isLessThanOrEqualTo(outgoing + 0.003);
        }
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
        assertThat(stream.stream().state()).isIn(TrustState.PROBATION, TrustState.SUSPENDED, TrustState.NORMAL);
    }

    @Test
    void aDoublingOfTheErrorOddsTightensTheStream() {
        SimulatedWorker worker = new SimulatedWorker(0.02, 2.0, 0.7);
        SplittableRandom rng = new SplittableRandom(5);
        SimulatedStream stream = new SimulatedStream(SimConfigs.with(Map.of()), "d-");
        for (int i = 0; i < 6000; i++) {
            stream.accept(worker.next(rng));
        }
        int before = stream.tightenings().size();
        worker.multiplyErrorOdds(4.0);
        long changeAt = stream.outputs();
        for (int i = 0; i < 4000 && stream.tightenings().size() == before; i++) {
            stream.accept(worker.next(rng));
        }
        assertThat(stream.tightenings()).hasSizeGreaterThan(before);
        assertThat(stream.tightenings().get(before)[0] - changeAt).isLessThan(4000);
    }
}
