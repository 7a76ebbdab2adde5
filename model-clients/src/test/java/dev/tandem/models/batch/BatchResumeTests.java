package dev.tandem.models.batch;

import dev.tandem.models.ApiKeySource;
import dev.tandem.models.Endpoint;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.anthropic.AnthropicModelClient;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.openai.OpenAiModelClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A restart with provider batches in flight, against the wire-faithful fakes: a new coordinator over the journal the
 * stopped one wrote (the same journal object here; worker-service runs the same over PostgreSQL) polls the batches on,
 * a repeat of a key joins its reloaded item, the answers of items nobody asks for again are collected and recorded,
 * and a fresh journal (a worker without a database) knows nothing, as before the journal.
 */
class BatchResumeTests {

    private static final BatchSettings SETTINGS = new BatchSettings(10, Duration.ofMillis(200), Duration.ofMillis(50),
            2);

    @TempDir
    Path dir;
    private FakeOpenAiBatches openai;
    private FakeAnthropicBatches anthropic;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final List<BatchCoordinator> coordinators = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        openai = new FakeOpenAiBatches();
        anthropic = new FakeAnthropicBatches();
    }

    @AfterEach
    void stop() {
        coordinators.forEach(BatchCoordinator::close);
        openai.close();
        anthropic.close();
    }

    /** A worker's coordinator over the journal; a second one over the same journal is the worker restarted. */
    private BatchCoordinator coordinator(BatchJournal journal) {
        var coordinator = new BatchCoordinator(SETTINGS, new BatchListener() {
            @Override
            public void resumed(String provider, String modelId, int items) {
                events.add("resumed " + provider + " " + items);
            }

            @Override
            public void collected(String provider, String modelId, int items) {
                events.add("collected " + provider + " " + items);
            }

            @Override
            public void answeredFromJournal(String provider, String modelId) {
                events.add("from journal " + provider);
            }

            @Override
            public void intentResolved(String provider, String modelId, String outcome) {
                events.add("intent " + provider + " " + outcome);
            }
        }, journal);
        coordinators.add(coordinator);
        return coordinator;
    }

    /** A new process's client of the model: nothing shared with the stopped one but the provider. */
    private BatchApi openAiApi() throws Exception {
        var key = dir.resolve("key");
        Files.writeString(key, "sk-test");
        return new OpenAiBatchApi(new OpenAiModelClient(ModelSpec.openai("gpt-batch", Endpoint.of(openai.baseUrl()
                + "/v1", "gpt-4o-mini", ApiKeySource.file(key)), Set.of("generation")).withBatch(true)));
    }

    private BatchApi anthropicApi() throws Exception {
        var key = dir.resolve("anthropic-key");
        Files.writeString(key, "sk-ant-test");
        return new AnthropicBatchApi(new AnthropicModelClient(ModelSpec.anthropic("claude-batch",
                Endpoint.of(anthropic.baseUrl(), "claude-sonnet-4-5", ApiKeySource.file(key)),
                Set.of("generation")).withBatch(true)));
    }

    private static ChatRequest keyed(String message, String key) {
        return ChatRequest.builder().system("Answer briefly.").user(message).maxTokens(64)
                .deadline(CallDeadline.deferred(Duration.ofSeconds(30))).callKey(key).build();
    }

    private static CompletableFuture<ChatResponse> callAsync(BatchCoordinator coordinator, String model,
                                                             BatchApi api, ChatRequest request) {
        return CompletableFuture.supplyAsync(() -> coordinator.call(model, api, request),
                Executors.newVirtualThreadPerTaskExecutor());
    }

    @Test
    void aWorkerRestartWithABatchInFlightTheRepeatJoinsItsItemAndTheProviderSawOneBatchAndOneItemPerKey()
            throws Exception {
        openai.pollsBeforeEnd = 30; // about 1.5 s of polls at 50 ms: the batch outlives the first worker
        var journal = BatchJournal.inMemory(Duration.ofMinutes(15));
        var before = coordinator(journal);
        var api = openAiApi();
        callAsync(before, "gpt-batch", api, keyed("invoice total?", "acme/task-1/a/execute@gpt-batch"));
        callAsync(before, "gpt-batch", api, keyed("ticket label?", "acme/task-1/b/execute@gpt-batch"));
        waitFor(() -> openai.requestLines.stream().anyMatch(l -> l.startsWith("GET /v1/batches/")));
        before.close(); // the worker stops: its callers' calls are gone with it, the provider's batch runs on

        var after = coordinator(journal);
        var restartedApi = openAiApi();
        after.resume((provider, model) -> Optional.of(restartedApi));
        var repeat = after.call("gpt-batch", restartedApi, keyed("invoice total?", "acme/task-1/a/execute@gpt-batch"));

        assertThat(repeat.text()).isEqualTo("echo: invoice total?");
        assertThat(events).contains("resumed openai 2");
        // one batch create, one item per key: the repeat was answered by the item the first worker submitted (the two
        // calls' threads join the group in either order)
        assertThat(openai.submittedCustomIds).singleElement().satisfies(ids -> assertThat(ids)
                .containsExactlyInAnyOrder(BatchCoordinator.customId("acme/task-1/a/execute@gpt-batch"),
                        BatchCoordinator.customId("acme/task-1/b/execute@gpt-batch")));
        assertThat(openai.cancelled).isEmpty();
        // the other key's item nobody asked for again was collected, and its repeat is answered from the record
        waitFor(() -> events.contains("collected openai 1"));
        var late = after.call("gpt-batch", restartedApi, keyed("ticket label?", "acme/task-1/b/execute@gpt-batch"));
        assertThat(late.text()).isEqualTo("echo: ticket label?");
        assertThat(events).contains("from journal openai");
        assertThat(openai.submittedMessages).hasSize(1);
        assertThat(journal.claimOpen()).isEmpty();
    }

    @Test
    void aReloadedAnthropicBatchIsCollectedWithoutACallerAndAnsweredFromTheRecordOnlyForTheSameRequest()
            throws Exception {
        anthropic.pollsBeforeEnd = 20;
        var journal = BatchJournal.inMemory(Duration.ofMinutes(15));
        var before = coordinator(journal);
        var api = anthropicApi();
        callAsync(before, "claude-batch", api, keyed("summarise the memo", "acme/task-2/s/execute@claude-batch"));
        waitFor(() -> anthropic.requestLines.stream().anyMatch(l -> l.startsWith("GET /v1/messages/batches/")));
        before.close();

        var after = coordinator(journal);
        var restartedApi = anthropicApi();
        after.resume((provider, model) -> Optional.of(restartedApi));
        // nobody asks: the restarted worker polls the batch to its end and records the answer
        waitFor(() -> journal.claimOpen().isEmpty());
        assertThat(events).contains("resumed anthropic 1", "collected anthropic 1");
        assertThat(anthropic.requestLines).anyMatch(l -> l.matches("GET /v1/messages/batches/msgbatch_\\d+/results"));

        var repeat = after.call("claude-batch", restartedApi, keyed("summarise the memo",
                "acme/task-2/s/execute@claude-batch"));
        assertThat(repeat.text()).isEqualTo("echo: summarise the memo");
        assertThat(repeat.usage().inputTokens()).isEqualTo(30);
        assertThat(anthropic.submittedMessages).hasSize(1);

        // the same key asking for something else is not answered by the record: it is a call of its own
        var other = after.call("claude-batch", restartedApi, keyed("summarise the other memo",
                "acme/task-2/s/execute@claude-batch"));
        assertThat(other.text()).isEqualTo("echo: summarise the other memo");
        assertThat(anthropic.submittedMessages).hasSize(2);
    }

    @Test
    void aReloadedBatchWhoseItemsNobodyCanAskForAgainIsCancelled() throws Exception {
        openai.pollsBeforeEnd = 1_000;
        var journal = BatchJournal.inMemory(Duration.ofMinutes(15));
        var before = coordinator(journal);
        var api = openAiApi();
        // no call key: no repeat can name the item
        callAsync(before, "gpt-batch", api, ChatRequest.builder().user("unkeyed").maxTokens(16)
                .deadline(CallDeadline.deferred(Duration.ofSeconds(30))).build());
        waitFor(() -> openai.requestLines.stream().anyMatch(l -> l.startsWith("GET /v1/batches/")));
        before.close();

        var after = coordinator(journal);
        var restartedApi = openAiApi();
        after.resume((provider, model) -> Optional.of(restartedApi));

        waitFor(() -> !openai.cancelled.isEmpty());
        waitFor(() -> journal.claimOpen().isEmpty());
        assertThat(openai.submittedMessages).hasSize(1);
    }

    @Test
    void aReloadedBatchIsCancelledWhenTheCallersOfAllItsItemsGaveUpAsBefore() throws Exception {
        openai.pollsBeforeEnd = 1_000;
        var journal = BatchJournal.inMemory(Duration.ofMinutes(15));
        var before = coordinator(journal);
        var api = openAiApi();
        callAsync(before, "gpt-batch", api, keyed("only item", "acme/task-4/a/execute@gpt-batch"));
        waitFor(() -> openai.requestLines.stream().anyMatch(l -> l.startsWith("GET /v1/batches/")));
        before.close();

        var after = coordinator(journal);
        var restartedApi = openAiApi();
        after.resume((provider, model) -> Optional.of(restartedApi));
        // the repeat joins the reloaded item, then its deadline passes: the batch's every item was given up
        var repeat = ChatRequest.builder().system("Answer briefly.").user("only item").maxTokens(64)
                .deadline(CallDeadline.deferred(Duration.ofMillis(800))).callKey("acme/task-4/a/execute@gpt-batch")
                .build();
        var failure = catchThrowableOfType(() -> after.call("gpt-batch", restartedApi, repeat),
                ModelCallException.class);

        assertThat(failure.kind()).isEqualTo(ModelCallException.Kind.TIMEOUT);
        waitFor(() -> !openai.cancelled.isEmpty());
        waitFor(() -> journal.claimOpen().isEmpty());
        assertThat(openai.submittedMessages).hasSize(1);
    }

    @Test
    void aRepeatGivingUpOneReloadedItemLeavesTheOthersCollected() throws Exception {
        openai.pollsBeforeEnd = 60; // about 3 s of polls at 50 ms
        var journal = BatchJournal.inMemory(Duration.ofMinutes(15));
        var before = coordinator(journal);
        var api = openAiApi();
        callAsync(before, "gpt-batch", api, keyed("first", "acme/task-5/a/execute@gpt-batch"));
        callAsync(before, "gpt-batch", api, keyed("second", "acme/task-5/b/execute@gpt-batch"));
        waitFor(() -> openai.requestLines.stream().anyMatch(l -> l.startsWith("GET /v1/batches/")));
        before.close();

        var after = coordinator(journal);
        var restartedApi = openAiApi();
        after.resume((provider, model) -> Optional.of(restartedApi));
        var repeat = ChatRequest.builder().system("Answer briefly.").user("first").maxTokens(64)
                .deadline(CallDeadline.deferred(Duration.ofMillis(500))).callKey("acme/task-5/a/execute@gpt-batch")
                .build();
        catchThrowableOfType(() -> after.call("gpt-batch", restartedApi, repeat), ModelCallException.class);

        // the other item was reloaded, not given up: the batch runs to its end and both answers are recorded
        waitFor(() -> journal.claimOpen().isEmpty());
        assertThat(openai.cancelled).isEmpty();
        assertThat(events).contains("collected openai 2");
        assertThat(after.call("gpt-batch", restartedApi, keyed("first", "acme/task-5/a/execute@gpt-batch")).text())
                .isEqualTo("echo: first");
        assertThat(openai.submittedMessages).hasSize(1);
    }

    @Test
    void withoutADatabaseARestartedWorkerKnowsNothingOfItsBatchesAsBefore() throws Exception {
        openai.pollsBeforeEnd = 30;
        var before = coordinator(BatchJournal.inMemory(Duration.ofMinutes(15)));
        var api = openAiApi();
        callAsync(before, "gpt-batch", api, keyed("invoice total?", "acme/task-3/a/execute@gpt-batch"));
        waitFor(() -> openai.requestLines.stream().anyMatch(l -> l.startsWith("GET /v1/batches/")));
        before.close();

        // the restarted process has a journal of its own, empty
        var after = coordinator(BatchJournal.inMemory(Duration.ofMinutes(15)));
        var restartedApi = openAiApi();
        after.resume((provider, model) -> Optional.of(restartedApi));
        openai.pollsBeforeEnd = 1;
        var repeat = after.call("gpt-batch", restartedApi, keyed("invoice total?", "acme/task-3/a/execute@gpt-batch"));

        assertThat(repeat.text()).isEqualTo("echo: invoice total?");
        assertThat(events).noneMatch(e -> e.startsWith("resumed"));
        assertThat(openai.submittedMessages).hasSize(2); // the limit the journal removes: paid twice
    }

    @Test
    void aCrashBetweenTheCreateAndTheJournalUpdateLeavesAnIntentTheRestartFindsByItsJournalIdAndPollsOn()
            throws Exception {
        openai.pollsBeforeEnd = 30;
        var durable = BatchJournal.inMemory(Duration.ofMinutes(15));
        var crashing = new CrashingJournal(durable, CrashingJournal.At.BETWEEN_THE_CREATE_AND_THE_JOURNAL_UPDATE);
        var before = coordinator(crashing);
        var api = openAiApi();
        callAsync(before, "gpt-batch", api, keyed("invoice total?", "acme/task-6/a/execute@gpt-batch"));
        assertThat(crashing.crashed.await(20, TimeUnit.SECONDS)).isTrue();
        // the provider made (and will bill) the batch; the journal holds only the intent, with no batch id
        assertThat(openai.submittedCustomIds).hasSize(1);
        assertThat(durable.claimOpen()).singleElement().satisfies(b -> assertThat(b.intent()).isTrue());
        before.close();

        var after = coordinator(durable);
        var restartedApi = openAiApi();
        after.resume((provider, model) -> Optional.of(restartedApi));
        var repeat = after.call("gpt-batch", restartedApi, keyed("invoice total?", "acme/task-6/a/execute@gpt-batch"));

        assertThat(repeat.text()).isEqualTo("echo: invoice total?");
        // found by the journal id in its metadata (GET /v1/batches), polled on, joined: one batch, one item
        assertThat(openai.requestLines).contains("GET /v1/batches");
        assertThat(events).contains("intent openai created", "resumed openai 1");
        assertThat(openai.submittedCustomIds).containsExactly(List.of(
                BatchCoordinator.customId("acme/task-6/a/execute@gpt-batch")));
        waitFor(() -> durable.claimOpen().isEmpty());
    }

    @Test
    void aCrashBeforeTheCreateLeavesAnIntentTheRestartClosesAndTheRepeatSubmitsItsItemOnce() throws Exception {
        var durable = BatchJournal.inMemory(Duration.ofMinutes(15));
        var crashing = new CrashingJournal(durable, CrashingJournal.At.BEFORE_THE_CREATE);
        var before = coordinator(crashing);
        var api = openAiApi();
        callAsync(before, "gpt-batch", api, keyed("ticket label?", "acme/task-8/a/execute@gpt-batch"));
        assertThat(crashing.crashed.await(20, TimeUnit.SECONDS)).isTrue();
        before.close();
        assertThat(openai.submittedMessages).isEmpty();

        var after = coordinator(durable);
        var restartedApi = openAiApi();
        after.resume((provider, model) -> Optional.of(restartedApi));
        waitFor(() -> durable.claimOpen().isEmpty());
        assertThat(events).contains("intent openai not_created");
        var repeat = after.call("gpt-batch", restartedApi, keyed("ticket label?", "acme/task-8/a/execute@gpt-batch"));

        assertThat(repeat.text()).isEqualTo("echo: ticket label?");
        assertThat(openai.submittedMessages).containsExactly(List.of("ticket label?"));
    }

    @Test
    void aCreateWhoseAnswerIsLostIsFoundByItsJournalIdInsteadOfSubmittedAgain() throws Exception {
        openai.createAnswersLost.set(1); // the batch is made, its create answers 502
        var journal = BatchJournal.inMemory(Duration.ofMinutes(15));
        var coordinator = coordinator(journal);

        var answer = coordinator.call("gpt-batch", openAiApi(), keyed("refund?", "acme/task-9/a/execute@gpt-batch"));

        assertThat(answer.text()).isEqualTo("echo: refund?");
        assertThat(openai.submittedMessages).containsExactly(List.of("refund?"));
        assertThat(openai.requestLines).contains("GET /v1/batches");
        waitFor(() -> journal.claimOpen().isEmpty());
    }

    @Test
    void anAnthropicIntentLeftByACrashCannotBeLookedUpAndItsItemIsSubmittedAgainTheJournalsLimit() throws Exception {
        anthropic.pollsBeforeEnd = 30;
        var durable = BatchJournal.inMemory(Duration.ofMinutes(15));
        var crashing = new CrashingJournal(durable, CrashingJournal.At.BETWEEN_THE_CREATE_AND_THE_JOURNAL_UPDATE);
        var before = coordinator(crashing);
        var api = anthropicApi();
        callAsync(before, "claude-batch", api, keyed("summarise", "acme/task-10/s/execute@claude-batch"));
        assertThat(crashing.crashed.await(20, TimeUnit.SECONDS)).isTrue();
        before.close();

        var after = coordinator(durable);
        var restartedApi = anthropicApi();
        after.resume((provider, model) -> Optional.of(restartedApi));
        anthropic.pollsBeforeEnd = 1;
        var repeat = after.call("claude-batch", restartedApi, keyed("summarise", "acme/task-10/s/execute@claude-batch"));

        assertThat(repeat.text()).isEqualTo("echo: summarise");
        // a Message Batch carries no name of ours: the intent is closed as unknown, the repeat is a second batch
        assertThat(events).contains("intent anthropic unknown");
        assertThat(anthropic.submittedMessages).hasSize(2);
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met within 20 s");
            }
            Thread.sleep(20);
        }
    }
}
