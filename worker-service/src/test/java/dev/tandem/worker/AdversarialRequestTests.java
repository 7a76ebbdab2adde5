package dev.tandem.worker;

import com.google.protobuf.Timestamp;
import dev.tandem.proto.worker.v1.LatencyClass;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.Status;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.tandem.worker.ExecuteStepTests.CHEAP;
import static dev.tandem.worker.ExecuteStepTests.output;
import static dev.tandem.worker.ExecuteStepTests.step;
import static dev.tandem.worker.GrpcAssertions.failsWith;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests no router sends on purpose but a caller can: text built to make a pattern backtrack, names far longer
 * than any real one, times outside what a timestamp holds, enum values from a newer contract. Each is answered in
 * the caller's terms (a result, or INVALID_ARGUMENT naming the field), within the call's deadline, never INTERNAL.
 */
@QuarkusTest
class AdversarialRequestTests {

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    /** Far above what these steps take (milliseconds), far below what the backtracking took (minutes). */
    private WorkerServiceGrpc.WorkerServiceBlockingStub bounded() {
        return worker.withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    /**
     * An order reference followed by a few thousand digits and a word character: the built-in order_id pattern's
     * two starred runs around {@code \d{3,}} backtracked cubically (4 KB took about a minute, 8 KB several), on
     * the call's thread and past its deadline.
     */
    @Test
    void aLongOrderReferenceDoesNotMakeTheOrderPatternBacktrack() throws Exception {
        var text = "Your order ORD" + "1".repeat(4000) + "_x was shipped.";

        var response = bounded().executeStep(step("extract", Map.of("text", text, "fields", "order_id"), CHEAP)
                .build());

        assertThat(output(response).get("missing")).extracting(n -> n.asText()).containsExactly("order_id");
    }

    /** A long run of letters without an {@code @}: every start in it rescanned the rest of it (quadratic). */
    @Test
    void aLongTokenDoesNotMakeTheEmailPatternBacktrack() throws Exception {
        var text = "Reach me at jane@example.com. " + "a".repeat(150_000);

        var response = bounded().executeStep(step("extract", Map.of("text", text, "fields", "email"), CHEAP)
                .build());

        assertThat(output(response).path("fields").path("email").asText()).isEqualTo("jane@example.com");
    }

    /**
     * An option line with a long run of blanks inside: the option pattern's lazy text and trailing blanks tried
     * every split of the run (quadratic). Pre-flight reads the options before it looks at the model.
     */
    @Test
    void anOptionLineWithALongRunOfBlanksIsReadAtOnce() {
        var choices = "A) shark" + " ".repeat(150_000) + "fin\nB) trout";

        failsWith(Status.Code.FAILED_PRECONDITION, () -> bounded().executeStep(step("answer",
                Map.of("question", "Which one is a mammal?", "choices", choices), CHEAP).build()));
    }

    /**
     * A refusal travels in the trailers, which a grpc-java client takes up to 8 KiB of; a refusal that quotes a
     * long worker type, model id or option line was answered INTERNAL "RST_STREAM ... PROTOCOL_ERROR" instead.
     */
    @Test
    void aRefusalQuotingALongValueStillArrivesAsInvalidArgumentNamingTheField() {
        var name = "classify-" + "x".repeat(20_000);
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> worker.executeStep(step(name,
                Map.of("text", "I was charged twice."), CHEAP).build()))).containsExactly("worker_type");

        assertThat(failsWith(Status.Code.NOT_FOUND, () -> worker.executeStep(step("classify",
                Map.of("text", "I was charged twice."), "m".repeat(20_000)).build()))).containsExactly("model_id");

        assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> worker.executeStep(step("answer",
                Map.of("question", "Which one is a mammal?", "choices", "shark " + "y".repeat(20_000)), CHEAP)
                .build()))).containsExactly("inputs.choices");

        var fields = String.join(",", java.util.Collections.nCopies(2_000, "field-nobody-defined"))
                + "," + "z".repeat(20_000);
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> worker.executeStep(step("extract",
                Map.of("text", "Order ORD-48213", "fields", fields), CHEAP).build()))).containsExactly("inputs.fields");
    }

    /**
     * A BATCH-class step's batch deadline years away: the time left overflowed a long of nanoseconds when capped
     * by the caller's deadline and the call failed UNKNOWN. The caller's deadline is the bound.
     */
    @Test
    void aBatchDeadlineFarAwayIsBoundedByTheCallersDeadline() throws Exception {
        var response = bounded().executeStep(step("classify", Map.of("text", "I was charged twice."), CHEAP)
                .setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH)
                .setBatchDeadline(Timestamp.newBuilder().setSeconds(253_402_300_799L)).build());

        assertThat(output(response).get("label").asText()).isEqualTo("billing");
    }

    /** A timestamp outside google.protobuf.Timestamp's range (years 1 to 9999, nanos below a second) is refused. */
    @Test
    void aBatchDeadlineOutsideTheTimestampRangeIsInvalidArgument() {
        for (var deadline : new Timestamp[] {Timestamp.newBuilder().setSeconds(Long.MAX_VALUE).build(),
                Timestamp.newBuilder().setSeconds(1_900_000_000L).setNanos(-1).build(),
                Timestamp.newBuilder().setSeconds(-62_135_596_801L).build()}) {
            assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> bounded().executeStep(step("classify",
                    Map.of("text", "I was charged twice."), CHEAP).setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH)
                    .setBatchDeadline(deadline).build()))).as("%s", deadline).containsExactly("batch_deadline");
            assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> bounded().reviewStep(review()
                    .setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH).setBatchDeadline(deadline).build())))
                    .as("%s", deadline).containsExactly("batch_deadline");
        }
    }

    /** A latency class this worker does not know (a newer contract) is refused, not run as a standard call. */
    @Test
    void anUnknownLatencyClassIsInvalidArgument() {
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> worker.executeStep(step("classify",
                Map.of("text", "I was charged twice."), CHEAP).setLatencyClassValue(42).build())))
                .containsExactly("latency_class");
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> worker.reviewStep(review()
                .setLatencyClassValue(42).build()))).containsExactly("latency_class");
    }

    /**
     * A review's candidate and a step's instructions are read too (embedded, compared, sent in the prompt) but were
     * not counted against max-input-chars: a 1.5 MB summary candidate of 150,000 sentences had every one embedded,
     * far past the caller's deadline; 3 MB of instructions went into the prompt.
     */
    @Test
    void aCandidateOrInstructionsOverTheInputBoundAreInvalidArgument() {
        var text = "The museum reopens in May after renovation. Entry will be free on Sundays.";
        var sentences = String.join(",", Collections.nCopies(150_000, "\"Entry will be free on Sundays.\""));
        assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> bounded().reviewStep(review()
                .setWorkerType("summarize").putInputs("text", text)
                .setCandidateOutput("{\"summary\":\"Free entry.\",\"sentences\":[" + sentences + "]}").build())))
                .containsExactly("candidate_output");

        assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> bounded().executeStep(step("classify",
                Map.of("text", "I was charged twice."), CHEAP).setInstructions("Be careful. ".repeat(250_000))
                .build()))).containsExactly("instructions");
    }

    /**
     * A summary with more sentences than the step asked for is not that summary; the whole document as its
     * "summary" covered the document best and was accepted.
     */
    @Test
    void aSummaryCandidateWithMoreSentencesThanAskedForIsRejected() {
        var text = "The museum reopens in May after renovation. Entry will be free on Sundays. "
                + "A new wing shows modern art. The cafe moves to the roof. Guided tours start at ten.";
        var whole = "{\"summary\":\"" + text + "\",\"sentences\":[\"The museum reopens in May after renovation.\","
                + "\"Entry will be free on Sundays.\",\"A new wing shows modern art.\","
                + "\"The cafe moves to the roof.\",\"Guided tours start at ten.\"]}";

        var response = bounded().reviewStep(review().setWorkerType("summarize").putInputs("text", text)
                .putInputs("max_sentences", "1").setCandidateOutput(whole).build());

        assertThat(response.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);
        assertThat(response.getReason()).contains("5 sentences").contains("1 asked for");
    }

    /**
     * The checkpoint key joined task and step ids with '|', which both may contain: the step of another task was
     * answered with this one's stored result (from_checkpoint) instead of being run.
     */
    @Test
    void aCheckpointIsNotReplayedToAnotherTaskWhoseIdsJoinTheSame() {
        var inputs = Map.of("text", "I was charged twice for my subscription.");
        var first = worker.executeStep(step("classify", inputs, CHEAP).setTaskId("probe|a").setStepId("s").build());
        var again = worker.executeStep(step("classify", inputs, CHEAP).setTaskId("probe|a").setStepId("s").build());
        var other = worker.executeStep(step("classify", inputs, CHEAP).setTaskId("probe").setStepId("a|s").build());

        assertThat(first.getFromCheckpoint()).isFalse();
        assertThat(again.getFromCheckpoint()).isTrue();
        assertThat(other.getFromCheckpoint()).isFalse();
    }

    /** Every ad-hoc label is embedded on each call: 30,000 of them (within the input bound) are refused. */
    @Test
    void tooManyAdHocLabelsAreInvalidArgument() {
        var labels = String.join(",", java.util.stream.IntStream.range(0, 30_000).mapToObj(i -> "l" + i).toList());

        assertThat(failsWith(Status.Code.INVALID_ARGUMENT, () -> bounded().executeStep(step("classify",
                Map.of("text", "I was charged twice.", "labels", labels), CHEAP).build())))
                .containsExactly("inputs.labels");
    }

    /**
     * A solve review reads the candidate's answer for its final number; the final-marker pattern's two runs of
     * blanks around an optional '$' tried every split of a long run (40,000 blanks: 15 s; this one: minutes).
     */
    @Test
    void aCandidateAnswerWithALongRunOfBlanksAfterTheFinalMarkerIsReadAtOnce() {
        var candidate = "{\"reasoning\":\"48 / 2 = 24\",\"answer\":\"#### " + " ".repeat(60_000) + "x\"}";

        var response = bounded().reviewStep(review().setWorkerType("solve").clearInputs()
                .putInputs("question", "A baker makes 48 rolls and sells half of them in the morning. How many rolls "
                        + "are left?").setModelId("replay-fixture").setCandidateOutput(candidate).build());

        assertThat(response.getVerdict()).isEqualTo(ReviewVerdict.REVIEW_VERDICT_REJECTED);
        assertThat(response.getReason()).contains("no numeric");
    }

    /**
     * A type file's pattern may backtrack for ages on some text (extra type ticket-ref has the old order_id pattern,
     * {@code TKT[A-Z0-9]*\d{3,}[A-Z0-9]*\b}, cubic over a run of digits). The match reads the text within the
     * step's deadline: the step ends DEADLINE_EXCEEDED at the deadline (its timeout is counted) instead of holding a
     * core for as long as the pattern runs.
     */
    @Test
    void aBacktrackingPatternOfATypeFileStopsAtTheStepsDeadline() throws Exception {
        // the encoder loaded and the type working, so that only the pattern can take the time
        var found = worker.executeStep(step("ticket-ref", Map.of("text", "Ticket TKT4821, please help."), CHEAP)
                .build());
        assertThat(output(found).path("fields").path("ticket").asText()).isEqualTo("TKT4821");
        var text = "Ticket TKT" + "1".repeat(5_000) + "_x, please help.";

        failsWith(Status.Code.DEADLINE_EXCEEDED, () -> worker.withDeadlineAfter(1, TimeUnit.SECONDS).executeStep(
                step("ticket-ref", Map.of("text", text), CHEAP).build()));

        // the server's own record of the step: a timeout, not a step still running (it would run for ages)
        var counted = "tandem_worker_steps_seconds_count{model=\"" + CHEAP + "\",outcome=\"timeout\","
                + "worker_type=\"ticket-ref\"}";
        for (int i = 0; i < 150 && !metrics().contains(counted); i++) {
            Thread.sleep(100);
        }
        assertThat(metrics()).contains(counted);
    }

    private static String metrics() {
        return io.restassured.RestAssured.get("/q/metrics").asString();
    }

    private static ReviewStepRequest.Builder review() {
        return ReviewStepRequest.newBuilder().setTaskId("t").setStepId("s").setWorkerType("classify")
                .putInputs("text", "I was charged twice.").setCandidateOutput("{\"label\":\"billing\"}")
                .setModelId(CHEAP);
    }
}
