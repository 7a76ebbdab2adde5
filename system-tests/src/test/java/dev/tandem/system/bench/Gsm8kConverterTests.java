package dev.tandem.system.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.tandem.models.replay.RecordedPrompts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

class Gsm8kConverterTests {

    static final String MIXTRAL = Gsm8kConverter.MODELS.get(0);
    static final String GPT4 = Gsm8kConverter.MODELS.get(1);

    /** Three questions in RouteLLM's layout, one of them contaminated. */
    static Path fixture(Path dir) throws Exception {
        Files.writeString(dir.resolve("gsm8k_responses.csv"), "prompt," + MIXTRAL + "," + GPT4 + "," + MIXTRAL
                + "_response," + GPT4 + "_response\n"
                // RouteLLM calls GPT-4's answer wrong, but its final number is the reference: right by the number
                + "Eggs: 16 - 7 at $2?,True,False,\"9 * 2 = <<9*2=18>>18\n#### 18\",\"She makes $18.00 a day.\"\n"
                // RouteLLM calls Mixtral's answer right, but its last number is not the reference: wrong
                + "Bolts: 2 and half that?,True,True,\"2 + 1 = 3 bolts, or 4 with spares\",\"2 + 1 = 3\"\n"
                + "Contaminated one?,True,True,\"#### 1\",\"#### 1\"\n");
        Files.writeString(dir.resolve("test.jsonl"),
                "{\"question\": \"Eggs: 16 - 7 at $2?\", \"answer\": \"9 * 2 = 18\\n#### 18\"}\n"
                        + "{\"question\": \"Bolts: 2 and half that?\", \"answer\": \"2 + 1 = 3\\n#### 3\"}\n"
                        + "{\"question\": \"Contaminated one?\", \"answer\": \"#### 1\"}\n");
        Files.writeString(dir.resolve("contaminated_prompts.jsonl"),
                "{\"train_prompt\": \"x\", \"eval_prompt\": \"Contaminated one?\"}\n");
        return dir;
    }

    @Test
    void scoresEveryResponseByItsFinalNumberAndKeepsRouteLlmsLabelBeside(@TempDir Path dir) throws Exception {
        var out = dir.resolve("out/gsm8k.jsonl");
        var summary = Gsm8kConverter.convert(fixture(dir), out);

        assertThat(summary.written()).isEqualTo(2);
        assertThat(summary.contaminated()).isEqualTo(1);
        assertThat(summary.correct()).isEqualTo(Map.of(MIXTRAL, 1, GPT4, 2));
        assertThat(summary.labelled()).isEqualTo(Map.of(MIXTRAL, 2, GPT4, 1));

        var scorer = ReplayDataset.load(out, List.of(MIXTRAL, GPT4));
        var all = new java.util.ArrayList<ReplayDataset.Question>();
        all.addAll(scorer.onboarding);
        all.addAll(scorer.selection);
        all.addAll(scorer.evaluation);
        var eggs = all.stream().filter(q -> q.prompt().startsWith("Eggs")).findFirst().orElseThrow();
        assertThat(eggs.id()).isEqualTo("gsm8k-1");
        assertThat(eggs.dataset()).isEqualTo("gsm8k");
        assertThat(eggs.of(GPT4).correct()).isTrue();
        assertThat(eggs.of(GPT4).comparisonLabel()).contains(false);
        var bolts = all.stream().filter(q -> q.prompt().startsWith("Bolts")).findFirst().orElseThrow();
        assertThat(bolts.of(MIXTRAL).correct()).isFalse();
        assertThat(bolts.of(MIXTRAL).comparisonLabel()).contains(true);
        assertThat(bolts.modelOf("  2 + 1 = 3\n", MIXTRAL)).contains(GPT4);
        assertThat(bolts.modelOf("something else", GPT4)).isEmpty();
    }

    @Test
    void theConvertedFileReplaysWithTheRecordedResponsesOnly(@TempDir Path dir) throws Exception {
        var out = dir.resolve("gsm8k.jsonl");
        Gsm8kConverter.convert(fixture(dir), out);

        var prompts = RecordedPrompts.read(out);
        assertThat(prompts).hasSize(2);
        assertThat(prompts.getFirst().models().get(GPT4).response()).isEqualTo("She makes $18.00 a day.");
        assertThat(prompts.getFirst().models().get(GPT4).cost()).isEmpty();
    }
}
