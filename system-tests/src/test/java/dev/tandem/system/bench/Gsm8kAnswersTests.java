package dev.tandem.system.bench;

import java.math.BigDecimal;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class Gsm8kAnswersTests {

    @Test
    void takesTheNumberAfterTheLastMarker() {
        assertThat(Gsm8kAnswers.finalNumber("9 * 2 = $<<9*2=18>>18.\n#### 18")).contains(new BigDecimal("18"));
        assertThat(Gsm8kAnswers.finalNumber("#### 5 is wrong, so\n#### 7 eggs, not 9")).contains(new BigDecimal("7"));
        assertThat(Gsm8kAnswers.finalNumber("It takes 2 bolts.\n#### 1,450,000")).contains(new BigDecimal("1450000"));
    }

    @Test
    void withoutAMarkerTakesTheLastNumberLeavingAnnotationsOut() {
        assertThat(Gsm8kAnswers.finalNumber("She makes 9 * $2 = $18 every day.")).contains(new BigDecimal("18"));
        assertThat(Gsm8kAnswers.finalNumber("So 16 - 7 = <<16-7=9>>9 eggs, that is $1,800.00 a year."))
                .contains(new BigDecimal("1800.00"));
        assertThat(Gsm8kAnswers.finalNumber("no number here")).isEmpty();
        assertThat(Gsm8kAnswers.finalNumber(null)).isEmpty();
    }

    @Test
    void readsASignedNumberButNotASubtraction() {
        assertThat(Gsm8kAnswers.finalNumber("The change is -4")).contains(new BigDecimal("-4"));
        assertThat(Gsm8kAnswers.finalNumber("16-7")).contains(new BigDecimal("7"));
    }

    @Test
    void comparesAsNumbersAfterDroppingDollarsCommasAndTrailingZeros() {
        var reference = new BigDecimal("1800");
        assertThat(Gsm8kAnswers.matches("The total is $1,800.00.", reference)).isTrue();
        assertThat(Gsm8kAnswers.matches("#### 1800.0", reference)).isTrue();
        assertThat(Gsm8kAnswers.matches("#### 1,801", reference)).isFalse();
        // the last number decides, not any number in the text: RouteLLM's label may call this right
        assertThat(Gsm8kAnswers.matches("1800 dollars a year is 150 a month", reference)).isFalse();
        assertThat(Gsm8kAnswers.matches("I cannot tell.", reference)).isFalse();
    }
}
