package dev.tandem.system.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class StreamOrderTests {

    static List<ReplayDataset.Question> questions(int n) {
        return IntStream.range(0, n).mapToObj(i -> new ReplayDataset.Question("q" + i, "gsm8k",
                "Question number " + i + "?", Map.of(), ReplayDataset.split("Question number " + i + "?"))).toList();
    }

    static List<String> ids(List<ReplayDataset.Question> qs) {
        return qs.stream().map(ReplayDataset.Question::id).toList();
    }

    @Test
    void theSameSeedGivesTheSameOrderWhateverTheFilesOrder() {
        List<ReplayDataset.Question> qs = questions(200);
        List<ReplayDataset.Question> shuffled = new ArrayList<>(qs);
        Collections.reverse(shuffled);

        assertThat(ids(StreamOrder.of(shuffled, 15))).isEqualTo(ids(StreamOrder.of(qs, 15)));
        assertThat(ids(StreamOrder.of(qs, 15))).containsExactlyInAnyOrderElementsOf(ids(qs));
    }

    @Test
    void anotherSeedGivesAnotherOrderAndNeitherIsTheFilesOrder() {
        List<ReplayDataset.Question> qs = questions(200);

        assertThat(ids(StreamOrder.of(qs, 15))).isNotEqualTo(ids(StreamOrder.of(qs, 16)));
        assertThat(ids(StreamOrder.of(qs, 15))).isNotEqualTo(ids(qs));
    }

    @Test
    void aSplitKeepsTheOrderItHasInTheWholeStream() {
        List<ReplayDataset.Question> qs = questions(200);
        List<ReplayDataset.Question> evaluation = qs.stream()
                .filter(q -> q.split() == ReplayDataset.Split.EVALUATION).toList();

        List<String> inWhole = ids(StreamOrder.of(qs, 15).stream()
                .filter(q -> q.split() == ReplayDataset.Split.EVALUATION).toList());

        assertThat(evaluation).isNotEmpty();
        assertThat(ids(StreamOrder.of(evaluation, 15))).isEqualTo(inWhole);
    }
}
