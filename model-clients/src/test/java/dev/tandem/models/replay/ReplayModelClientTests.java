package dev.tandem.models.replay;

import dev.tandem.models.ModelSpec;
import dev.tandem.models.ReplaySource;
import dev.tandem.models.TokenCounter;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ReplayModelClientTests {

    static final Path RECORDINGS = Path.of("src/test/resources/replay/recordings.csv");

    static ReplayModelClient client(Path file, String column) {
        return new ReplayModelClient(ModelSpec.replay("replay-x", new ReplaySource(file, "prompt", column,
                "question", "cl100k_base"), Set.of("generation")));
    }

    @Test
    void answersARecordedQuestionWithItsColumnAndEstimatesTokens() {
        try (var x = client(RECORDINGS, "model_x_response"); var y = client(RECORDINGS, "model_y_response")) {
            var request = ChatRequest.builder().system("Solve it.").user("What is 12 times 4, plus 2?")
                    .replayKey("What is 12 times 4, plus 2?").build();
            var answer = x.chat(request);
            assertThat(answer.text()).startsWith("12 * 4 = <<12*4=48>>48").endsWith("#### 50");
            assertThat(y.chat(request).text()).isEqualTo("12 x 4 = 48. 48 + 2 = 50. The answer is 50.");
            assertThat(answer.usage().estimated()).isTrue();
            var tokens = TokenCounter.of("cl100k_base");
            assertThat(answer.usage().outputTokens()).isEqualTo(tokens.count(answer.text()));
            assertThat(answer.usage().inputTokens()).isEqualTo(tokens.countChat(request.messages()));
            assertThat(x.availability().detail()).contains("2 prompts").contains("cl100k_base");
        }
    }

    @Test
    void aRecordedCostIsReportedAsTheCallsCostAndAFileWithoutCostsLeavesPricingToTheCatalog(@TempDir Path dir)
            throws Exception {
        var file = dir.resolve("recorded.jsonl");
        Files.writeString(file, """
                {"id": "1", "dataset": "d", "prompt": "q1", "models": {"m": {"response": "A", "correct": true, "cost_usd": 0.0125}}}
                {"id": "2", "dataset": "d", "prompt": "q2", "models": {"m": {"response": "B", "correct": false}}}
                """);
        try (var m = client(file, "m")) {
            var recorded = m.chat(ChatRequest.builder().user("q1").build()).usage();
            assertThat(recorded.reportedCost()).contains(0.0125);
            assertThat(recorded.estimated()).as("the tokens are still estimated").isTrue();
            assertThat(m.chat(ChatRequest.builder().user("q2").build()).usage().reportedCost()).isEmpty();
        }
        try (var csv = client(RECORDINGS, "model_x_response")) {
            assertThat(csv.chat(ChatRequest.builder().user("What is 12 times 4, plus 2?").build()).usage()
                    .reportedCost()).isEmpty();
        }
    }

    @Test
    void matchesQuestionsAfterNormalisationAndFallsBackToTheLastUserMessage() {
        try (var x = client(RECORDINGS, "model_x_response")) {
            var typed = ChatRequest.builder().user("  \"Sam's\" dog eats 3 cups a day.\n How many cups in a WEEK? ").build();
            assertThat(x.chat(typed).text()).endsWith("#### 21");
        }
    }

    @Test
    void neverReadsTheCorrectnessColumns(@TempDir Path dir) throws Exception {
        // The same recordings with every True/False label flipped: everything the client returns is identical.
        var asRecorded = dir.resolve("a/recordings.csv");
        var flipped = dir.resolve("b/recordings.csv");
        Files.createDirectories(asRecorded.getParent());
        Files.createDirectories(flipped.getParent());
        Files.writeString(asRecorded, "prompt,model_x,model_x_response\nq1,True,\"1 + 1 = 2\n#### 2\"\nq2,False,"
                + "\"2 + 2 = 5\n#### 5\"\n");
        Files.writeString(flipped, "prompt,model_x,model_x_response\nq1,False,\"1 + 1 = 2\n#### 2\"\nq2,True,"
                + "\"2 + 2 = 5\n#### 5\"\n");
        try (var a = client(asRecorded, "model_x_response"); var b = client(flipped, "model_x_response")) {
            for (var q : new String[] {"q1", "q2"}) {
                var request = ChatRequest.builder().system("Solve it.").user(q).build();
                var x = a.chat(request);
                var y = b.chat(request);
                assertThat(List.of(y.text(), y.usage(), y.providerModel(), y.finishReason()))
                        .isEqualTo(List.of(x.text(), x.usage(), x.providerModel(), x.finishReason()));
            }
            assertThat(b.availability().detail().replace("/b/", "/a/")).isEqualTo(a.availability().detail());
        }
        // and a dataset without any label column works the same
        try (var bare = client(Path.of("src/test/resources/replay/without-labels.csv"), "model_x_response")) {
            assertThat(bare.chat(ChatRequest.builder().user("What is 12 times 4, plus 2?").build()).text())
                    .endsWith("#### 50");
        }
    }

    @Test
    void refusesATrueFalseColumnAsResponses(@TempDir Path dir) throws Exception {
        var file = dir.resolve("labels.csv");
        Files.writeString(file, "prompt,gpt-4,gpt-4_response\nq1,True,r1\nq2,False,r2\n");
        try (var labels = client(file, "gpt-4")) {
            assertThat(labels.availability().available()).isFalse();
            assertThat(labels.availability().detail()).contains("holds labels");
        }
    }

    @Test
    void anUnknownQuestionIsUnsupportedNamingModelAndDataset() {
        try (var x = client(RECORDINGS, "model_x_response")) {
            var e = catchThrowableOfType(ModelCallException.class,
                    () -> x.chat(ChatRequest.builder().user("What is the capital of France?").build()));
            assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED);
            assertThat(e.getMessage()).contains("replay-x").contains("recordings.csv").contains("capital of France");
        }
    }

    @Test
    void aMissingFileMakesTheModelUnavailableUntilItAppears(@TempDir Path dir) throws Exception {
        var file = dir.resolve("late.csv");
        try (var late = client(file, "model_x_response")) {
            assertThat(late.availability().available()).isFalse();
            assertThat(late.availability().detail()).contains("late.csv").contains("not readable");
            var e = catchThrowableOfType(ModelCallException.class,
                    () -> late.chat(ChatRequest.builder().user("q").build()));
            assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED);

            Files.writeString(file, "prompt,model_x_response\nq,\"an answer, #### 1\"\n");
            assertThat(late.availability().available()).isTrue();
            assertThat(late.chat(ChatRequest.builder().user("q").build()).text()).isEqualTo("an answer, #### 1");
        }
    }

    @Test
    void aMissingColumnIsAClearError() {
        try (var x = client(RECORDINGS, "model_z_response")) {
            assertThat(x.availability().detail()).contains("no column 'model_z_response'");
        }
        assertThatThrownBy(() -> new ReplaySource(RECORDINGS, "prompt", "prompt", "question", null))
                .hasMessageContaining("same");
    }
}
