package dev.tandem.models.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.ReplaySource;
import dev.tandem.models.chat.ChatRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecordedPromptsTests {

    static final Path RECORDINGS = Path.of("src/test/resources/replay/recordings.jsonl");
    private static final ObjectMapper JSON = new ObjectMapper();

    static ReplayModelClient client(Path file, String model) {
        return new ReplayModelClient(ModelSpec.replay("replay-" + model, new ReplaySource(file, null, model,
                "question", "cl100k_base"), Set.of("generation")));
    }

    @Test
    void readsEveryPromptWithEachModelsResponseAndCost() throws Exception {
        var prompts = RecordedPrompts.read(RECORDINGS);

        assertThat(prompts).extracting(RecordedPrompts.Prompt::id).containsExactly("q1", "q2", "mc1");
        assertThat(prompts).extracting(RecordedPrompts.Prompt::dataset).containsExactly("arith", "arith", "quiz");
        assertThat(prompts.getFirst().models()).containsOnlyKeys("model-x", "model-y");
        assertThat(prompts.getFirst().models().get("model-x").cost()).contains(0.0021);
        assertThat(prompts.getFirst().models().get("model-y").cost()).isEmpty();
        assertThat(prompts.get(2).models().get("model-x").response()).isEqualTo("The answer is (C).");
    }

    @Test
    void theTypesTheSystemReadsHaveNoPlaceForCorrectness() {
        // structural: what the replay backend parses into cannot hold a label, whatever the file says
        assertThat(Arrays.stream(RecordedPrompts.Response.class.getRecordComponents()).map(c -> c.getName()))
                .containsExactly("response", "costUsd");
        assertThat(Arrays.stream(RecordedPrompts.Prompt.class.getRecordComponents()).map(c -> c.getName()))
                .containsExactly("id", "dataset", "prompt", "models");
    }

    @Test
    void flippingEveryCorrectValueChangesNothingTheModelReturns(@TempDir Path dir) throws Exception {
        var file = dir.resolve("recordings.jsonl");
        Files.copy(RECORDINGS, file);
        var asRecorded = everythingReturned(file);

        // every correct (and comparison label) negated, the file otherwise the same
        var flipped = new ArrayList<String>();
        for (var line : Files.readAllLines(RECORDINGS)) {
            var node = (ObjectNode) JSON.readTree(line);
            node.path("models").forEach(m -> {
                var response = (ObjectNode) m;
                for (var field : List.of("correct", "routellm_correct")) {
                    if (response.has(field)) {
                        response.set(field, BooleanNode.valueOf(!response.get(field).asBoolean()));
                    }
                }
            });
            flipped.add(JSON.writeValueAsString(node));
        }
        Files.write(file, flipped);
        assertThat(labels(file)).hasSize(6).isEqualTo(labels(RECORDINGS).stream().map(b -> !b).toList());

        assertThat(everythingReturned(file)).isEqualTo(asRecorded);
    }

    /** Every correct and comparison label of a file, in order (what the scorer would read). */
    private static List<Boolean> labels(Path file) throws Exception {
        var out = new ArrayList<Boolean>();
        for (var line : Files.readAllLines(file)) {
            JSON.readTree(line).path("models").forEach(m -> {
                for (var field : List.of("correct", "routellm_correct")) {
                    if (m.has(field)) {
                        out.add(m.get(field).asBoolean());
                    }
                }
            });
        }
        return out;
    }

    /** Every byte the replay models give back for every prompt: text, usage, provider model, availability. */
    private static String everythingReturned(Path file) throws Exception {
        var out = new StringBuilder();
        for (var model : List.of("model-x", "model-y")) {
            try (var client = client(file, model)) {
                out.append(client.availability()).append('\n');
                for (var prompt : RecordedPrompts.read(file)) {
                    if (!prompt.models().containsKey(model)) {
                        continue;
                    }
                    var r = client.chat(ChatRequest.builder().system("Solve it.").user(prompt.prompt()).build());
                    out.append(r.text()).append('|').append(r.usage()).append('|').append(r.providerModel())
                            .append('|').append(r.finishReason()).append('\n');
                }
            }
        }
        return out.toString();
    }

    @Test
    void aJsonlModelAnswersItsPromptsAndOnlyThose() {
        try (var x = client(RECORDINGS, "model-x"); var y = client(RECORDINGS, "model-y")) {
            assertThat(x.chat(ChatRequest.builder().user("what is 12 times 4, plus 2?").build()).text())
                    .endsWith("#### 50");
            assertThat(y.chat(ChatRequest.builder().user("\"Sam's\" dog eats 3 cups a day. How many cups in a week?")
                    .build()).text()).isEqualTo("He needs 3 * 7 = 20 cups.");
            assertThat(x.availability().detail()).contains("model 'model-x'").contains("3 prompts");
            assertThat(y.availability().detail()).contains("2 prompts");
            assertThat(y.availability().detail()).doesNotContain("correct");
        }
        try (var z = client(RECORDINGS, "model-z")) {
            assertThat(z.availability().available()).isFalse();
            assertThat(z.availability().detail()).contains("no responses of model 'model-z'")
                    .contains("[model-x, model-y]");
        }
    }

    @Test
    void aRecordedCostIsKeptPerPrompt() throws Exception {
        var x = ReplayDataset.load(RECORDINGS, null, "model-x");
        assertThat(x.costUsd("What is 12 times 4, plus 2?")).contains(0.0021);
        assertThat(x.costUsd("Which is a prime? (A) 4 (B) 6 (C) 7 (D) 9")).isEmpty();
        assertThat(ReplayDataset.load(RECORDINGS, null, "model-y").costUsd(
                "“Sam’s” dog eats 3 cups a day. How many cups in a week?")).contains(0.0);
    }

    @Test
    void aBrokenLineIsNamed(@TempDir Path dir) throws Exception {
        var noResponse = dir.resolve("a.jsonl");
        Files.writeString(noResponse, "{\"id\":\"1\",\"prompt\":\"q\",\"models\":{\"m\":{\"response\":\"r\"}}}\n\n"
                + "{\"id\":\"2\",\"prompt\":\"q2\",\"models\":{\"m\":{\"correct\":true}}}\n");
        assertThatThrownBy(() -> RecordedPrompts.read(noResponse)).hasMessageContaining("a.jsonl:3")
                .hasMessageContaining("'m' has no \"response\"");
        var notJson = dir.resolve("b.jsonl");
        Files.writeString(notJson, "prompt,response\n");
        assertThatThrownBy(() -> RecordedPrompts.read(notJson)).hasMessageContaining("b.jsonl:1");
        var negative = dir.resolve("c.jsonl");
        Files.writeString(negative, "{\"prompt\":\"q\",\"models\":{\"m\":{\"response\":\"r\",\"cost_usd\":-1}}}\n");
        assertThatThrownBy(() -> RecordedPrompts.read(negative)).hasMessageContaining("negative cost_usd");
    }
}
