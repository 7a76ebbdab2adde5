package dev.tandem.system.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class CostWindowsTests {

    @Test
    void everyWindowOfConsecutiveTasksFromTheFirstIsCounted() {
        // 6 tasks, windows of 3: tasks 1-3, 2-4, 3-5, 4-6; the oracle alone would have cost 1 each
        double[] actual = {1.2, 1.2, 0.6, 0.3, 0.3, 0.3};
        double[] oracle = {1, 1, 1, 1, 1, 1};

        CostWindows w = CostWindows.of(actual, oracle, 3, 1.05);

        assertThat(w.windows()).isEqualTo(4);
        assertThat(w.first()).isCloseTo(1.0, within(1e-12));
        assertThat(w.max()).isCloseTo(1.0, within(1e-12));
        assertThat(w.maxStart()).isEqualTo(1);
        assertThat(w.over()).isZero();
    }

    @Test
    void aWindowInTheMiddleThatCostsMoreThanTheLimitIsFoundWhereItStarts() {
        // cheap at first, then tasks 4-5 are twice the oracle's price: the window 3-5 is the dearest
        double[] actual = {0.5, 0.5, 1.0, 2.0, 2.0, 0.5, 0.5};
        double[] oracle = {1, 1, 1, 1, 1, 1, 1};

        CostWindows w = CostWindows.of(actual, oracle, 3, 1.05);

        assertThat(w.max()).isCloseTo(5.0 / 3, within(1e-12));
        assertThat(w.maxStart()).isEqualTo(3);
        // windows 2-4 (3.5/3), 3-5 (5/3), 4-6 (4.5/3) are over 1.05; 1-3 (2/3) and 5-7 (3/3) are not
        assertThat(w.over()).isEqualTo(3);
    }

    @Test
    void ratiosAreOfSumsNotMeansOfPerTaskRatios() {
        // a dear question done cheaply weighs more than a cheap one done dearly
        double[] actual = {0.1, 2.0};
        double[] oracle = {10, 1};

        assertThat(CostWindows.of(actual, oracle, 2, 1.05).max()).isCloseTo(2.1 / 11, within(1e-12));
    }

    @Test
    void theNinetyFifthPercentileIsTheNearestRank() {
        // 20 windows of one task with ratios 0.01 ... 0.20: the 19th smallest is the 95th percentile
        double[] actual = new double[20];
        double[] oracle = new double[20];
        for (int i = 0; i < 20; i++) {
            actual[i] = (i + 1) / 100.0;
            oracle[i] = 1;
        }

        CostWindows w = CostWindows.of(actual, oracle, 1, 1.05);

        assertThat(w.p95()).isCloseTo(0.19, within(1e-12));
        assertThat(w.max()).isCloseTo(0.20, within(1e-12));
    }

    @Test
    void aStreamShorterThanAWindowIsOneWindow() {
        CostWindows w = CostWindows.of(new double[] {1, 2}, new double[] {1, 1}, 20, 1.05);

        assertThat(w.windows()).isEqualTo(1);
        assertThat(w.width()).isEqualTo(2);
        assertThat(w.max()).isCloseTo(1.5, within(1e-12));
        assertThat(w.over()).isEqualTo(1);
    }

    @Test
    void badInputIsRefusedWithTheReason() {
        assertThatThrownBy(() -> CostWindows.of(new double[] {1}, new double[] {1, 1}, 20, 1.05))
                .hasMessageContaining("differ in length");
        assertThatThrownBy(() -> CostWindows.of(new double[] {1}, new double[] {1}, 0, 1.05))
                .hasMessageContaining("at least one task");
        assertThatThrownBy(() -> CostWindows.of(new double[] {1}, new double[] {0}, 1, 1.05))
                .hasMessageContaining("must be positive");
    }
}
