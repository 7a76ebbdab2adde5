package dev.tandem.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Instant;

import org.junit.jupiter.api.Test;

/** Applying a map: linear between knots, flat outside them, the raw value without a map. */
class CalibrationMapTests {

    private static CalibrationMap map(double[] raw, double[] calibrated) {
        return new CalibrationMap("ISOTONIC", raw, calibrated, 100, 0, 0, 0, 0, 30, Instant.EPOCH);
    }

    @Test
    void interpolatesLinearlyBetweenKnotsAndIsFlatOutsideThem() {
        CalibrationMap m = map(new double[] {0.2, 0.6, 0.9}, new double[] {0.1, 0.3, 0.9});
        assertThat(m.apply(0.4)).isCloseTo(0.2, within(1e-12));
        assertThat(m.apply(0.75)).isCloseTo(0.6, within(1e-12));
        assertThat(m.apply(0.6)).isEqualTo(0.3);
        assertThat(m.apply(0.05)).isEqualTo(0.1);
        assertThat(m.apply(-1)).isEqualTo(0.1);
        assertThat(m.apply(0.99)).isEqualTo(0.9);
        assertThat(m.apply(2)).isEqualTo(0.9);
    }

    @Test
    void aSingleKnotIsAConstantAndARepeatedKnotTakesItsUpperValue() {
        assertThat(map(new double[] {0.5}, new double[] {0.7}).apply(0.1)).isEqualTo(0.7);
        assertThat(map(new double[] {0.5}, new double[] {0.7}).apply(0.9)).isEqualTo(0.7);
        CalibrationMap step = map(new double[] {0.2, 0.5, 0.5, 0.8}, new double[] {0.1, 0.2, 0.6, 0.9});
        assertThat(step.apply(0.5)).isEqualTo(0.6);
        assertThat(step.apply(0.35)).isCloseTo(0.15, within(1e-12));
        assertThat(step.apply(0.65)).isCloseTo(0.75, within(1e-12));
    }

    @Test
    void noMapLeavesTheRawConfidenceAsItIs() {
        assertThat(CalibrationMap.apply(null, 0.37)).isEqualTo(0.37);
    }

    @Test
    void refusesKnotsThatDoNotAscendOrDoNotMatchTheirValues() {
        assertThatThrownBy(() -> map(new double[] {0.6, 0.2}, new double[] {0.1, 0.3}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> map(new double[] {0.2}, new double[] {0.1, 0.3}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> map(new double[0], new double[0])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theReferenceShiftTravelsWithTheMapAndLeavesItsValuesAlone() {
        CalibrationMap m = map(new double[] {0.2, 0.9}, new double[] {0.1, 0.9}).withReferenceShift(0.4, 0.3);
        assertThat(m.referenceLogOdds()).isEqualTo(0.4);
        assertThat(m.estimatedLogOdds()).isEqualTo(0.3);
        assertThat(m.apply(0.55)).isCloseTo(0.5, within(1e-12));
    }
}
