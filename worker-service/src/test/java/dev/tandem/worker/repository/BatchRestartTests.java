package dev.tandem.worker.repository;

import dev.tandem.models.batch.BatchApi;
import dev.tandem.models.batch.BatchCoordinator;
import dev.tandem.models.batch.BatchItem;
import dev.tandem.models.batch.BatchJournal;
import dev.tandem.models.batch.BatchListener;
import dev.tandem.models.batch.BatchPoll;
import dev.tandem.models.batch.BatchSettings;
import dev.tandem.models.batch.CrashingJournal;
import dev.tandem.models.batch.ItemResult;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.FinishReason;
import dev.tandem.models.chat.TokenUsage;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A worker restart with a provider batch in flight, over the worker's PostgreSQL journal: the stopped worker's
 * coordinator and the restarted one's share only the database (and the provider). The provider's wire is covered by
 * model-clients' {@code BatchResumeTests} against the wire-faithful fakes; here a provider in this process that ends
 * a batch after a number of polls counts what it was asked to create.
 */
@QuarkusTest
@TestProfile(BatchJournalRepositoryTests.WithDatabase.class)
class BatchRestartTests {

    private static final BatchSettings SETTINGS = new BatchSettings(10, Duration.ofMillis(100), Duration.ofMillis(50),
            2);

    @Inject
    AgroalDataSource dataSource;

    private final List<BatchCoordinator> coordinators = new ArrayList<>();
    private final Provider provider = new Provider();
    private final AtomicInteger resumed = new AtomicInteger();
    private final AtomicInteger collected = new AtomicInteger();
    private final AtomicInteger fromJournal = new AtomicInteger();

    @AfterEach
    void stop() {
        coordinators.forEach(BatchCoordinator::close);
    }

    /** A worker process's coordinator over the database's journal, claiming under one name across restarts. */
    private BatchCoordinator worker() {
        return worker(new BatchJournalRepository(dataSource, "worker-0:8082", Duration.ofMinutes(5),
                Duration.ofHours(24)));
    }

    private BatchCoordinator worker(BatchJournal journal) {
        var coordinator = new BatchCoordinator(SETTINGS, new BatchListener() {
            @Override
            public void resumed(String p, String modelId, int items) {
                resumed.incrementAndGet();
            }

            @Override
            public void collected(String p, String modelId, int items) {
                collected.addAndGet(items);
            }

            @Override
            public void answeredFromJournal(String p, String modelId) {
                fromJournal.incrementAndGet();
            }
        }, journal);
        coordinators.add(coordinator);
        return coordinator;
    }

    private static ChatRequest keyed(String message, String key) {
        return ChatRequest.builder().system("Answer briefly.").user(message).maxTokens(64)
                .deadline(CallDeadline.deferred(Duration.ofSeconds(30))).callKey(key).build();
    }

    @Test
    void aRestartedWorkerJoinsTheRepeatToItsReloadedItemAndCollectsTheItemNobodyAskedForAgain() throws Exception {
        provider.pollsBeforeEnd = 30;
        var model = "gpt-batch-" + UUID.randomUUID();
        var keyA = "acme/task-1/a/execute@" + model;
        var keyB = "acme/task-1/b/execute@" + model;
        var before = worker();
        var threads = Executors.newVirtualThreadPerTaskExecutor();
        CompletableFuture.supplyAsync(() -> before.call(model, provider, keyed("invoice total?", keyA)), threads);
        CompletableFuture.supplyAsync(() -> before.call(model, provider, keyed("ticket label?", keyB)), threads);
        waitFor(() -> provider.polls.get() > 0);
        before.close(); // the worker stops; the provider's batch runs on

        var after = worker();
        after.resume((p, m) -> Optional.of(provider));
        var repeat = after.call(model, provider, keyed("invoice total?", keyA));

        assertThat(repeat.text()).isEqualTo("echo: invoice total?");
        assertThat(resumed).hasValue(1);
        // one batch create with one item per key: the repeat was answered by the item the stopped worker submitted
        assertThat(provider.created).singleElement().satisfies(ids -> assertThat(ids)
                .containsExactlyInAnyOrder(BatchCoordinator.customId(keyA), BatchCoordinator.customId(keyB)));
        waitFor(() -> collected.get() == 1);

        // the other key's answer was collected with no caller and recorded in PostgreSQL: a later repeat (even after
        // another restart) is answered from the record, with the usage the provider billed once
        before.close();
        after.close();
        var third = worker();
        third.resume((p, m) -> Optional.of(provider));
        var late = third.call(model, provider, keyed("ticket label?", keyB));
        assertThat(late.text()).isEqualTo("echo: ticket label?");
        assertThat(late.usage().inputTokens()).isEqualTo(20);
        assertThat(fromJournal).hasValue(1);
        assertThat(provider.created).hasSize(1);
        assertThat(provider.cancelled).isEmpty();
    }

    @Test
    void aWorkerKilledBetweenTheCreateAndTheJournalUpdateFindsItsBatchAfterTheRestartAndPaysItOnce()
            throws Exception {
        provider.pollsBeforeEnd = 30;
        var model = "gpt-batch-" + UUID.randomUUID();
        var key = "acme/task-2/a/execute@" + model;
        var durable = new BatchJournalRepository(dataSource, "worker-0:8082", Duration.ofMinutes(5),
                Duration.ofHours(24));
        // the process dies once the provider made the batch, before its id is in the journal
        var crashing = new CrashingJournal(durable, CrashingJournal.At.BETWEEN_THE_CREATE_AND_THE_JOURNAL_UPDATE);
        var before = worker(crashing);
        CompletableFuture.supplyAsync(() -> before.call(model, provider, keyed("invoice total?", key)),
                Executors.newVirtualThreadPerTaskExecutor());
        assertThat(crashing.crashed.await(20, TimeUnit.SECONDS)).isTrue();
        before.close();

        var after = worker();
        after.resume((p, m) -> Optional.of(provider));
        var repeat = after.call(model, provider, keyed("invoice total?", key));

        assertThat(repeat.text()).isEqualTo("echo: invoice total?");
        assertThat(resumed).hasValue(1);
        assertThat(provider.created).singleElement().satisfies(ids -> assertThat(ids)
                .containsExactly(BatchCoordinator.customId(key)));
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

    /** A provider's batch API in this process: echoes each item's user message once the batch has been polled enough. */
    private static final class Provider implements BatchApi {
        volatile int pollsBeforeEnd = 1;
        final AtomicInteger polls = new AtomicInteger();
        final List<List<String>> created = new CopyOnWriteArrayList<>();
        final List<String> cancelled = new CopyOnWriteArrayList<>();
        private final Map<String, Map<String, String>> batches = new ConcurrentHashMap<>();

        @Override
        public String provider() {
            return "openai";
        }

        /** Batch ids by the journal id they were created under (OpenAI: the batch's metadata). */
        private final Map<String, String> named = new ConcurrentHashMap<>();

        @Override
        public String submit(String journalId, List<BatchItem> items) {
            var id = "batch_" + UUID.randomUUID();
            named.put(journalId, id);
            var messages = new HashMap<String, String>();
            items.forEach(i -> messages.put(i.customId(), i.request().lastUserText().orElse("")));
            batches.put(id, messages);
            created.add(items.stream().map(BatchItem::customId).toList());
            return id;
        }

        @Override
        public boolean canFind() {
            return true;
        }

        @Override
        public Optional<String> find(String journalId, java.time.Instant since) {
            return Optional.ofNullable(named.get(journalId));
        }

        @Override
        public BatchPoll poll(String batchId, Map<String, BatchItem.Form> forms) {
            if (polls.incrementAndGet() < pollsBeforeEnd) {
                return BatchPoll.running("in_progress");
            }
            var results = new HashMap<String, ItemResult>();
            batches.get(batchId).forEach((customId, message) -> results.put(customId, new ItemResult.Succeeded(
                    new ChatResponse("echo: " + message, FinishReason.STOP, "stop", new TokenUsage(20, 5, 0, 0, false),
                            List.of(), Duration.ZERO, "gpt-4o-mini"))));
            return new BatchPoll(true, "completed", results);
        }

        @Override
        public void cancel(String batchId) {
            cancelled.add(batchId);
        }
    }
}
