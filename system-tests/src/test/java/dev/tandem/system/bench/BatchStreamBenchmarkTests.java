package dev.tandem.system.bench;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BatchStreamBenchmarkTests {

    @Test
    void theBatchTasksShareIsOfWhatTheyCostInTheInteractiveStreamNotOfTheirCount() {
        // 4 tasks, the dear one (6 of 10) made BATCH-class: one task in four, 60 % of the cost
        List<Double> interactive = List.of(1.0, 6.0, 2.0, 1.0);

        assertThat(BatchStreamBenchmark.batchShareOfCost(interactive, Set.of(1))).isCloseTo(0.6, within(1e-12));
        assertThat(BatchStreamBenchmark.batchShareOfCost(interactive, Set.of(0, 3))).isCloseTo(0.2, within(1e-12));
    }

    @Test
    void aTaskThatFailedInTheInteractiveStreamCountsOnNeitherSide() {
        List<Double> interactive = List.of(1.0, Double.NaN, 3.0);

        assertThat(BatchStreamBenchmark.batchShareOfCost(interactive, Set.of(1, 2))).isCloseTo(0.75, within(1e-12));
        assertThat(BatchStreamBenchmark.batchShareOfCost(List.of(Double.NaN), Set.of(0))).isZero();
    }
}
