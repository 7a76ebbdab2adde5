package dev.tandem.worker.service;

import dev.tandem.models.confidence.TokenConfidence.Span;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class JsonSpansTests {

    @Test
    void aStringValuesSpanIsItsCharactersBetweenTheQuotes() {
        var json = "{\"reasoning\":\"Whales breathe air.\",\"answer\":\"C\",\"n\":42}";

        var answer = JsonSpans.values(json, 0, List.of("answer")).getFirst();
        var reasoning = JsonSpans.values(json, 10, List.of("reasoning")).getFirst();
        var number = JsonSpans.values(json, 0, List.of("n")).getFirst();

        assertThat(json.substring(answer.start(), answer.end())).isEqualTo("C");
        assertThat(json.substring(reasoning.start() - 10, reasoning.end() - 10)).isEqualTo("Whales breathe air.");
        assertThat(json.substring(number.start(), number.end())).isEqualTo("42");
        assertThat(JsonSpans.values(json, 0, List.of())).hasSize(3);
        assertThat(JsonSpans.values("{\"a\":\"\"}", 0, List.of("a"))).containsExactly(new Span(6, 6));
    }
}
