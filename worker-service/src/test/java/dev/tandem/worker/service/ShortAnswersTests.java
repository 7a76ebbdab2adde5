package dev.tandem.worker.service;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShortAnswersTests {

    static final Map<String, String> OPTIONS = ShortAnswers.choices("A) oxygen\n(B) carbon dioxide\nC. nitrogen");

    @Test
    void optionsAreReadFromLettersPerLineOrAJsonArray() {
        assertThat(OPTIONS).containsExactly(Map.entry("A", "oxygen"), Map.entry("B", "carbon dioxide"),
                Map.entry("C", "nitrogen"));
        assertThat(ShortAnswers.choices("[\"shark\", \"whale\"]")).containsExactly(Map.entry("A", "shark"),
                Map.entry("B", "whale"));
        assertThat(ShortAnswers.choices("  ")).isEmpty();
        assertThatThrownBy(() -> ShortAnswers.choices("A) one")).hasMessageContaining("at least two");
        assertThatThrownBy(() -> ShortAnswers.choices("A) one\nA) two")).hasMessageContaining("given twice");
        assertThatThrownBy(() -> ShortAnswers.choices("one or two")).hasMessageContaining("'one or two'");
        assertThatThrownBy(() -> ShortAnswers.choices("[\"one\", 2]")).hasMessageContaining("option 2");
    }

    @Test
    void theFinalAnswerIsTheLastMarkedOneElseTheLastLine() {
        assertThat(ShortAnswers.finalAnswer("Answer: Paris\nWait, no.\nThe answer is **Lyon**."))
                .contains(new ShortAnswers.Extracted("Lyon", true));
        assertThat(ShortAnswers.finalAnswer("so 6 * 7 = 42\n#### 42")).contains(new ShortAnswers.Extracted("42", true));
        assertThat(ShortAnswers.finalAnswer("Spiders have eight legs.\n8")).contains(new ShortAnswers.Extracted("8",
                false));
        assertThat(ShortAnswers.finalAnswer("Final answer: (C)")).contains(new ShortAnswers.Extracted("(C)", true));
        assertThat(ShortAnswers.finalAnswer("  \n ")).isEmpty();
    }

    @Test
    void anAnswerNamesAnOptionByItsLetterOrItsText() {
        assertThat(ShortAnswers.resolveChoice("(B)", OPTIONS)).contains("B");
        assertThat(ShortAnswers.resolveChoice("b.", OPTIONS)).contains("B");
        assertThat(ShortAnswers.resolveChoice("B) carbon dioxide", OPTIONS)).contains("B");
        assertThat(ShortAnswers.resolveChoice("Carbon Dioxide", OPTIONS)).contains("B");
        assertThat(ShortAnswers.resolveChoice("D", OPTIONS)).isEmpty();
        assertThat(ShortAnswers.resolveChoice("helium", OPTIONS)).isEmpty();
    }

    @Test
    void twoAnswersAreTheSameByOptionNumberOrNormalisedText() {
        assertThat(ShortAnswers.same("(B)", "carbon dioxide", OPTIONS, 1e-6)).isTrue();
        assertThat(ShortAnswers.same("A", "B", OPTIONS, 1e-6)).isFalse();
        assertThat(ShortAnswers.same("D", "D", OPTIONS, 1e-6)).as("an option that does not exist is never right")
                .isFalse();
        assertThat(ShortAnswers.same("$1,250.00", "1250", Map.of(), 1e-6)).isTrue();
        assertThat(ShortAnswers.same("1250", "1251", Map.of(), 1e-6)).isFalse();
        assertThat(ShortAnswers.same("The Eiffel Tower", "eiffel tower!", Map.of(), 1e-6)).isTrue();
        assertThat(ShortAnswers.same("Zürich", "zurich", Map.of(), 1e-6)).isTrue();
        assertThat(ShortAnswers.same("Lyon", "Paris", Map.of(), 1e-6)).isFalse();
        assertThat(ShortAnswers.same("", "", Map.of(), 1e-6)).isFalse();
    }
}
