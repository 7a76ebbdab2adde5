package dev.tandem.system.bench;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ReplaySelectionTests {

    static ReplayBenchmark.Point point(String setting, double accuracy, double cost) {
        return new ReplayBenchmark.Point("selection", "s", setting, 100, accuracy, accuracy, cost, cost / 10, 0, 0, 0,
                0, 0, false);
    }

    @Test
    void choosesTheCheapestSettingAtTheGoalElseTheMostAccurate() {
        var cheap = point("quality target 0", 0.70, 1);
        var middle = point("quality target 0.6", 0.82, 4);
        var dear = point("quality target 0.7", 0.86, 7);
        var dearer = point("quality target 0.75", 0.86, 9);

        assertThat(ReplayBenchmark.choose(List.of(dear, cheap, middle), 0.80)).isSameAs(middle);
        assertThat(ReplayBenchmark.choose(List.of(dearer, cheap, dear), 0.90)).isSameAs(dear);
    }

    @Test
    void theFrontierDropsSettingsBeatenOnCostAndAccuracy() {
        var cheap = point("quality target 0", 0.70, 1);
        var beaten = point("quality target 0.6", 0.69, 3);
        var dear = point("quality target 0.7", 0.86, 7);
        var same = point("quality target 0.75", 0.86, 9);

        assertThat(ReplayBenchmark.frontier(List.of(same, dear, beaten, cheap))).containsExactly(cheap, dear);
    }

    @Test
    void onlyTheSelectionCurveTakesTheBestPointPerBudget() {
        var b = new ReplayBenchmark.Baselines(0, 10, 0.6, 0.9);
        // a worse point at a higher cost: the envelope ignores it, the measured curve dips through it
        var curve = List.of(point("a", 0.8, 5), point("b", 0.7, 7.5));

        // trapezoids from (0, 0.6) to (1, 0.9): envelope through (0.5, 0.8), (0.75, 0.8); measured through (0.75, 0.7)
        assertThat(ReplayBenchmark.area(curve, b, true))
                .isCloseTo(0.5 * 0.7 + 0.25 * 0.8 + 0.25 * 0.85, within(1e-9));
        assertThat(ReplayBenchmark.area(curve, b, false))
                .isCloseTo(0.5 * 0.7 + 0.25 * 0.75 + 0.25 * 0.8, within(1e-9));
    }
}
