package dev.tandem.worker.service;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ArithmeticCheckTests {

    private static final double TOL = 1e-6;

    @Test
    void recomputesAnnotationsAndPlainStatementsOnce() {
        var calculations = ArithmeticCheck.calculations(
                "She sells 9 * $2 = $<<9*2=18>>18 a day.\nSo she has 16 - 3 = 13 eggs left.", TOL);
        assertThat(calculations).extracting(ArithmeticCheck.Calculation::expression)
                .containsExactly("<<9*2=18>>", "16 - 3 = 13");
        assertThat(calculations).allMatch(ArithmeticCheck.Calculation::holds);
    }

    @Test
    void flagsWrongResultsWithTheirCorrectValue() {
        var calculations = ArithmeticCheck.calculations("In total 3150 + 1300 + 48 + 2 = 4490 pounds.", TOL);
        assertThat(calculations).singleElement().satisfies(c -> {
            assertThat(c.holds()).isFalse();
            assertThat(c.describe()).isEqualTo("3150 + 1300 + 48 + 2 = 4490 (computes to 4500)");
        });
    }

    @Test
    void followsChainsUnitsLabelsAndPercentages() {
        var text = """
                It takes 2 + 1/2 = 5/2 = 2.5 bolts.
                He earns 14 hours/week * $10/hour = $140.
                60 (first month) + 180 (second month) = 240 downloads.
                (12 students / 20 students) * 100% = 60%
                Speed = 60 miles / 6 hours
                Speed = 10 miles per hour.
                10 / 3 = 3.33 each.
                """;
        var calculations = ArithmeticCheck.calculations(text, TOL);
        assertThat(calculations).hasSize(7).allMatch(ArithmeticCheck.Calculation::holds);
        assertThat(calculations.getLast().expression()).isEqualTo("10 / 3 = 3.33");
    }

    @Test
    void skipsEquationsWithUnknownsAndProseArithmetic() {
        var text = "2S + 30 = 110\n2S = 80\nS = 40\nP - 0.25P = 19.50\n20% of 100 = 20";
        assertThat(ArithmeticCheck.calculations(text, TOL)).isEmpty();
    }

    @Test
    void theFinalAnswerIsTheMarkedNumberElseTheLastOne() {
        assertThat(ArithmeticCheck.finalAnswer("so 9 * 2 = 18\n#### 1,250").getAsDouble()).isEqualTo(1250);
        assertThat(ArithmeticCheck.finalAnswer("He makes $18 every day.").getAsDouble()).isEqualTo(18);
        assertThat(ArithmeticCheck.finalAnswer("The change is -5 degrees").getAsDouble()).isEqualTo(-5);
        assertThat(ArithmeticCheck.finalAnswer("no idea")).isEmpty();
    }
}
