package dev.tandem.models.batch;

import dev.tandem.models.ApiKeySource;
import dev.tandem.models.Endpoint;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.anthropic.AnthropicModelClient;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;
import dev.tandem.models.openai.OpenAiModelClient;
import dev.tandem.models.registry.ModelRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Batch-class calls through the providers' batch APIs, against wire-faithful fakes of OpenAI's Batch API and
 * Anthropic's Message Batches: grouping, upload, create, poll, results, partial failures re-submitted item by item,
 * the retry limit, expiry, and cancellation of a batch nobody waits for.
 */
class BatchCoordinatorTests {

    @TempDir
    Path dir;
    private FakeOpenAiBatches openai;
    private FakeAnthropicBatches anthropic;
    private final List<String> ended = new CopyOnWriteArrayList<>();
    private BatchCoordinator coordinator;

    @BeforeEach
    void start() throws Exception {
        openai = new FakeOpenAiBatches();
        anthropic = new FakeAnthropicBatches();
        coordinator = coordinator(3, Duration.ofMillis(300));
    }

    @AfterEach
    void stop() {
        coordinator.close();
        openai.close();
        anthropic.close();
    }

    private BatchCoordinator coordinator(int maxItems, Duration maxWait) {
        return new BatchCoordinator(new BatchSettings(maxItems, maxWait, Duration.ofMillis(50), 2),
                new BatchListener() {
                    @Override
                    public void ended(String provider, String modelId, Duration turnaround, int succeeded,
                                      int errored, int expired, int cancelled) {
                        ended.add(provider + ":" + succeeded + "/" + errored + "/" + expired + "/" + cancelled);
                    }
                });
    }

    private ModelSpec openAiSpec() throws Exception {
        var key = dir.resolve("key");
        Files.writeString(key, "sk-test");
        return ModelSpec.openai("gpt-batch", Endpoint.of(openai.baseUrl() + "/v1", "gpt-4o-mini",
                ApiKeySource.file(key)), Set.of("generation")).withBatch(true);
    }

    private BatchApi openAiApi() throws Exception {
        return new OpenAiBatchApi(new OpenAiModelClient(openAiSpec()));
    }

    private BatchApi anthropicApi() throws Exception {
        var key = dir.resolve("anthropic-key");
        Files.writeString(key, "sk-ant-test");
        return new AnthropicBatchApi(new AnthropicModelClient(ModelSpec.anthropic("claude-batch",
                Endpoint.of(anthropic.baseUrl(), "claude-sonnet-4-5", ApiKeySource.file(key)),
                Set.of("generation")).withBatch(true)));
    }

    private static ChatRequest request(String message, Duration deadline) {
        return ChatRequest.builder().system("Answer briefly.").user(message).maxTokens(64)
                .deadline(CallDeadline.deferred(deadline)).build();
    }

    /** Calls at once, each on its own thread, as concurrent batch-class steps do. */
    private List<CompletableFuture<ChatResponse>> callAll(BatchApi api, String model, List<ChatRequest> requests) {
        var threads = Executors.newVirtualThreadPerTaskExecutor();
        var out = new ArrayList<CompletableFuture<ChatResponse>>();
        for (var r : requests) {
            out.add(CompletableFuture.supplyAsync(() -> coordinator.call(model, api, r), threads));
        }
        return out;
    }

    @Test
    void groupsCallsOfOneModelIntoOneOpenAiBatchAndAnswersEachWithItsOwnResult() throws Exception {
        openai.pollsBeforeEnd = 2;
        var api = openAiApi();
        var calls = callAll(api, "gpt-batch", List.of(request("one", Duration.ofSeconds(20)),
                request("two", Duration.ofSeconds(20)), request("three", Duration.ofSeconds(20))));

        assertThat(calls.get(0).get(20, TimeUnit.SECONDS).text()).isEqualTo("echo: one");
        assertThat(calls.get(1).get(20, TimeUnit.SECONDS).text()).isEqualTo("echo: two");
        assertThat(calls.get(2).get(20, TimeUnit.SECONDS).text()).isEqualTo("echo: three");
        // one upload (purpose batch) and one batch of three /v1/chat/completions lines, 24 h window
        assertThat(openai.uploadedPurposes).containsExactly("batch");
        assertThat(openai.completionWindows).containsExactly("24h");
        assertThat(openai.submittedMessages).hasSize(1);
        assertThat(openai.submittedMessages.getFirst()).containsExactlyInAnyOrder("one", "two", "three");
        // polled until it ended (validating -> in_progress -> completed), then the output file read
        assertThat(openai.requestLines.stream().filter(l -> l.startsWith("GET /v1/batches/")).count())
                .isGreaterThanOrEqualTo(3);
        assertThat(openai.requestLines).anyMatch(l -> l.matches("GET /v1/files/file-\\d+/content"));
        assertThat(openai.interactiveCalls).hasValue(0);
        var answer = calls.get(0).get();
        assertThat(answer.usage().inputTokens()).isEqualTo(20);
        assertThat(answer.usage().outputTokens()).isEqualTo(5);
        assertThat(ended(1)).containsExactly("openai:3/0/0/0");
    }

    @Test
    void resubmitsOnlyTheErroredItemInTheNextBatch() throws Exception {
        openai.script = (message, submission) -> message.equals("flaky") && submission == 1
                ? new FakeBatchServer.Fate.Error(500, "server_error", "The server had an error")
                : new FakeBatchServer.Fate.Answer("echo: " + message);
        var api = openAiApi();
        var calls = callAll(api, "gpt-batch", List.of(request("fine", Duration.ofSeconds(20)),
                request("flaky", Duration.ofSeconds(20)), request("also fine", Duration.ofSeconds(20))));

        assertThat(calls.get(1).get(20, TimeUnit.SECONDS).text()).isEqualTo("echo: flaky");
        assertThat(calls.get(0).get().text()).isEqualTo("echo: fine");
        assertThat(openai.submittedMessages).hasSize(2);
        assertThat(openai.submittedMessages.get(1)).containsExactly("flaky");
        assertThat(ended(2)).containsExactly("openai:2/1/0/0", "openai:1/0/0/0");
    }

    @Test
    void failsAnItemThatKeepsErroringAfterTheRetryLimitNamingTheError() throws Exception {
        openai.script = (message, submission) -> new FakeBatchServer.Fate.Error(503, "server_error",
                "Upstream overloaded");
        var api = openAiApi();
        var call = callAll(api, "gpt-batch", List.of(request("doomed", Duration.ofSeconds(20)))).getFirst();

        var failure = catchThrowableOfType(() -> call.get(20, TimeUnit.SECONDS),
                ExecutionException.class);
        var cause = (ModelCallException) failure.getCause();
        assertThat(cause.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(cause.getMessage()).contains("after 3 submission(s)").contains("Upstream overloaded");
        // the first submission and the two retries of the limit
        assertThat(openai.submittedMessages).hasSize(3);
    }

    @Test
    void failsAnInvalidRequestAtOnceWithoutResubmitting() throws Exception {
        openai.script = (message, submission) -> new FakeBatchServer.Fate.Error(400, "invalid_request_error",
                "max_tokens is too large");
        var api = openAiApi();
        var call = callAll(api, "gpt-batch", List.of(request("bad", Duration.ofSeconds(20)))).getFirst();

        var failure = catchThrowableOfType(() -> call.get(20, TimeUnit.SECONDS),
                ExecutionException.class);
        assertThat(((ModelCallException) failure.getCause()).kind()).isEqualTo(Kind.BAD_REQUEST);
        assertThat(failure.getCause().getMessage()).contains("max_tokens is too large");
        assertThat(openai.submittedMessages).hasSize(1);
    }

    @Test
    void resubmitsAnExpiredItemWhileTheDeadlineAllows() throws Exception {
        openai.script = (message, submission) -> submission == 1 ? new FakeBatchServer.Fate.Expire()
                : new FakeBatchServer.Fate.Answer("echo: " + message);
        var api = openAiApi();
        var call = callAll(api, "gpt-batch", List.of(request("late", Duration.ofSeconds(20)))).getFirst();

        assertThat(call.get(20, TimeUnit.SECONDS).text()).isEqualTo("echo: late");
        assertThat(openai.submittedMessages).hasSize(2);
        assertThat(ended.getFirst()).isEqualTo("openai:0/0/1/0");
    }

    @Test
    void anItemThatExpiresPastItsDeadlineFailsWithATimeout() throws Exception {
        openai.script = (message, submission) -> new FakeBatchServer.Fate.Expire();
        openai.pollsBeforeEnd = 3;
        var api = openAiApi();
        var call = callAll(api, "gpt-batch", List.of(request("too late", Duration.ofMillis(700)))).getFirst();

        var failure = catchThrowableOfType(() -> call.get(20, TimeUnit.SECONDS),
                ExecutionException.class);
        var cause = (ModelCallException) failure.getCause();
        assertThat(cause.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(cause.getMessage()).containsAnyOf("batch deadline");
    }

    @Test
    void cancelsTheProviderBatchWhenEveryCallerInItGaveUp() throws Exception {
        openai.pollsBeforeEnd = 1_000; // never ends by itself
        var api = openAiApi();
        var deadline = CallDeadline.deferred(Duration.ofSeconds(20));
        var request = ChatRequest.builder().user("cancel me").maxTokens(16).deadline(deadline).build();
        var call = CompletableFuture.supplyAsync(() -> coordinator.call("gpt-batch", api, request),
                Executors.newVirtualThreadPerTaskExecutor());
        waitFor(() -> !openai.submittedMessages.isEmpty());
        deadline.cancel("the task was cancelled");

        var failure = catchThrowableOfType(() -> call.get(20, TimeUnit.SECONDS),
                ExecutionException.class);
        assertThat(((ModelCallException) failure.getCause()).kind()).isEqualTo(Kind.CANCELLED);
        waitFor(() -> !openai.cancelled.isEmpty());
        assertThat(openai.requestLines).anyMatch(l -> l.matches("POST /v1/batches/batch_\\d+/cancel"));
    }

    @Test
    void aCallWithoutADeferredDeadlineGoesStraightToTheChatApi() throws Exception {
        try (var registry = new ModelRegistry(List.of(openAiSpec()), coordinator)) {
            var client = registry.client(openAiSpec());
            var interactive = client.chat(ChatRequest.builder().user("now").maxTokens(16)
                    .deadline(CallDeadline.after(Duration.ofSeconds(10))).build());
            assertThat(interactive.text()).isEqualTo("echo: now");
            assertThat(openai.interactiveCalls).hasValue(1);
            assertThat(openai.submittedMessages).isEmpty();

            var batched = client.chat(request("later", Duration.ofSeconds(20)));
            assertThat(batched.text()).isEqualTo("echo: later");
            assertThat(openai.submittedMessages).containsExactly(List.of("later"));
            assertThat(openai.interactiveCalls).hasValue(1);
        }
    }

    @Test
    void anthropicMessageBatchesSucceedResubmitErroredAndExpiredAndFailInvalid() throws Exception {
        anthropic.script = (message, submission) -> switch (message) {
            case "overloaded" -> submission == 1 ? new FakeBatchServer.Fate.Error(529, "overloaded_error",
                    "Overloaded") : new FakeBatchServer.Fate.Answer("fine now: " + message);
            case "expiring" -> submission == 1 ? new FakeBatchServer.Fate.Expire()
                    : new FakeBatchServer.Fate.Answer("ran at last: " + message);
            case "invalid" -> new FakeBatchServer.Fate.Error(400, "invalid_request_error", "prompt is too long");
            default -> new FakeBatchServer.Fate.Answer("answer to " + message);
        };
        var api = anthropicApi();
        var calls = callAll(api, "claude-batch", List.of(request("plain", Duration.ofSeconds(20)),
                request("overloaded", Duration.ofSeconds(20)), request("expiring", Duration.ofSeconds(20))));
        // the three fill the first batch (max 3 items) before the fourth call is made: their threads may start late
        waitFor(() -> !anthropic.submittedMessages.isEmpty());
        var invalid = callAll(api, "claude-batch", List.of(request("invalid", Duration.ofSeconds(20)))).getFirst();

        assertThat(calls.get(0).get(20, TimeUnit.SECONDS).text()).isEqualTo("answer to plain");
        assertThat(calls.get(1).get(20, TimeUnit.SECONDS).text()).isEqualTo("fine now: overloaded");
        assertThat(calls.get(2).get(20, TimeUnit.SECONDS).text()).isEqualTo("ran at last: expiring");
        assertThat(calls.get(0).get().usage().inputTokens()).isEqualTo(30);
        var failure = catchThrowableOfType(() -> invalid.get(20, TimeUnit.SECONDS),
                ExecutionException.class);
        assertThat(((ModelCallException) failure.getCause()).kind()).isEqualTo(Kind.BAD_REQUEST);
        assertThat(failure.getCause().getMessage()).contains("prompt is too long");
        // the first batch had the three together; the errored and the expired one went into a later batch
        assertThat(anthropic.submittedMessages.getFirst()).containsExactlyInAnyOrder("plain", "overloaded",
                "expiring");
        assertThat(anthropic.submittedMessages.stream().flatMap(List::stream).filter("plain"::equals).count())
                .isEqualTo(1);
        assertThat(anthropic.requestLines).anyMatch(l -> l.matches("GET /v1/messages/batches/msgbatch_\\d+/results"));
    }

    @Test
    void cancelsAnAnthropicBatchNobodyWaitsFor() throws Exception {
        anthropic.pollsBeforeEnd = 1_000;
        var api = anthropicApi();
        var deadline = CallDeadline.deferred(Duration.ofSeconds(20));
        var request = ChatRequest.builder().user("cancel me").maxTokens(16).deadline(deadline).build();
        var call = CompletableFuture.supplyAsync(() -> coordinator.call("claude-batch", api, request),
                Executors.newVirtualThreadPerTaskExecutor());
        waitFor(() -> !anthropic.submittedMessages.isEmpty());
        deadline.cancel("the task was cancelled");

        catchThrowableOfType(() -> call.get(20, TimeUnit.SECONDS), ExecutionException.class);
        waitFor(() -> !anthropic.cancelled.isEmpty());
        assertThat(anthropic.requestLines).anyMatch(l -> l.matches("POST /v1/messages/batches/msgbatch_\\d+/cancel"));
    }

    @Test
    void aRepeatOfAKeyedCallJoinsItsWaitingItemNamedAfterTheKey() throws Exception {
        var api = anthropicApi();
        // a key as the router sends it: tenant, the oracle's key and the model, with characters Anthropic refuses
        var key = "acme/task-7/extract/execute@claude-batch";
        var first = keyed("What is in the invoice?", key, Duration.ofSeconds(20));
        var repeat = keyed("What is in the invoice?", key, Duration.ofSeconds(20));
        var calls = callAll(api, "claude-batch", List.of(first, repeat));

        assertThat(calls.get(0).get(20, TimeUnit.SECONDS).text()).isEqualTo("echo: What is in the invoice?");
        assertThat(calls.get(1).get(20, TimeUnit.SECONDS).text()).isEqualTo("echo: What is in the invoice?");
        // one item, named after the key within Anthropic's custom_id rules
        assertThat(anthropic.submittedCustomIds).containsExactly(List.of(BatchCoordinator.customId(key)));
        assertThat(BatchCoordinator.customId(key)).matches("[a-zA-Z0-9_-]{1,64}");
    }

    @Test
    void aRepeatJoinsAKeyedItemItsCallerGaveUpWhileItsBatchRunsOn() throws Exception {
        openai.pollsBeforeEnd = 40; // about two seconds of polls at 50 ms
        var api = openAiApi();
        var firstDeadline = CallDeadline.deferred(Duration.ofSeconds(20));
        // the same request as the repeat's below (a repeat asking for another request under the key is not joined)
        var first = ChatRequest.builder().system("Answer briefly.").user("keyed").maxTokens(64).deadline(firstDeadline)
                .callKey("acme/task-8/a/execute@gpt-batch").build();
        var calls = callAll(api, "gpt-batch", List.of(first, request("another step", Duration.ofSeconds(20))));
        // the batch is submitted and polled: its items are the provider's now
        waitFor(() -> openai.requestLines.stream().anyMatch(l -> l.startsWith("GET /v1/batches/")));
        firstDeadline.cancel("the router that called was stopped");
        var gaveUp = catchThrowableOfType(() -> calls.get(0).get(20, TimeUnit.SECONDS), ExecutionException.class);
        assertThat(((ModelCallException) gaveUp.getCause()).kind()).isEqualTo(Kind.CANCELLED);

        var repeat = coordinator.call("gpt-batch", api, keyed("keyed", "acme/task-8/a/execute@gpt-batch",
                Duration.ofSeconds(20)));

        assertThat(repeat.text()).isEqualTo("echo: keyed");
        assertThat(calls.get(1).get(20, TimeUnit.SECONDS).text()).isEqualTo("echo: another step");
        // the repeat was answered by the item submitted for the first call: one batch, nothing cancelled
        assertThat(openai.submittedMessages).hasSize(1);
        assertThat(openai.submittedMessages.getFirst()).containsExactlyInAnyOrder("keyed", "another step");
        assertThat(openai.cancelled).isEmpty();
    }

    private static ChatRequest keyed(String message, String key, Duration deadline) {
        return ChatRequest.builder().system("Answer briefly.").user(message).maxTokens(64)
                .deadline(CallDeadline.deferred(deadline)).callKey(key).build();
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

    /**
     * The batches reported ended, once there are {@code n}: the coordinator answers a batch's callers before it
     * reports the batch ended, so a caller's answer can arrive before the report.
     */
    private List<String> ended(int n) throws InterruptedException {
        waitFor(() -> ended.size() >= n);
        return ended;
    }
}
