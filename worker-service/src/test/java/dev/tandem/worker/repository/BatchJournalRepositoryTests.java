package dev.tandem.worker.repository;

import dev.tandem.models.batch.BatchItem;
import dev.tandem.models.batch.BatchJournal;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.FinishReason;
import dev.tandem.models.chat.TokenLogprob;
import dev.tandem.models.chat.TokenUsage;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The batch journal in PostgreSQL, as a worker with a datasource runs it: a batch's intent (written before the create)
 * is claimed back without a batch id and then named by its batch or closed; a submitted batch is claimed back with its
 * items by its replica, by another only once the claim lapsed; an ended batch answers a keyed item's repeat that asks
 * for the same request, within the retention, and is pruned after it.
 */
@QuarkusTest
@TestProfile(BatchJournalRepositoryTests.WithDatabase.class)
class BatchJournalRepositoryTests {

    /** The worker with its optional database configured: a fresh journal schema per run. */
    public static class WithDatabase implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.datasource.jdbc.url",
                    "${TANDEM_TEST_DB_URL:jdbc:postgresql://127.0.0.1:5432/tandem_test}",
                    "quarkus.flyway.clean-disabled", "false",
                    "quarkus.flyway.clean-at-start", "true",
                    "tandem.worker.batch.owner", "replica-a",
                    "tandem.worker.batch.retention", "1h");
        }
    }

    @Inject
    BatchJournal journal;
    @Inject
    AgroalDataSource dataSource;

    private static final ChatResponse ANSWER = new ChatResponse("{\"label\":\"billing\"}", FinishReason.STOP, "stop",
            new TokenUsage(120, 8, 30, 0, false, 0.000123), List.of(new TokenLogprob("billing", -0.05,
            List.of(new TokenLogprob.Alternative("billing", -0.05), new TokenLogprob.Alternative("refund", -3.2)))),
            Duration.ofMillis(1234), "gpt-4o-mini-2024-07-18");

    private static BatchJournal.Batch batch(String id) {
        return new BatchJournal.Batch("openai", "gpt-batch", UUID.randomUUID().toString(), id, List.of(
                new BatchJournal.Item(id + "-a", true, "request-a", BatchItem.Form.SCHEMA),
                new BatchJournal.Item(UUID.randomUUID().toString(), false, "request-b", BatchItem.Form.TEXT)),
                Instant.now().truncatedTo(ChronoUnit.MILLIS));
    }

    private static String newId() {
        return "batch_" + UUID.randomUUID();
    }

    /** As the coordinator writes a batch: its intent before the create, its batch id once created. */
    private void submit(BatchJournal.Batch batch) {
        journal.intended(new BatchJournal.Batch(batch.provider(), batch.modelId(), batch.journalId(), null,
                batch.items(), batch.submittedAt()));
        journal.created(batch.provider(), batch.journalId(), batch.batchId());
    }

    @Test
    void anIntentIsClaimedBackWithoutABatchIdAndIsEitherNamedByItsBatchOrClosed() throws SQLException {
        var created = batch(newId());
        var lost = batch(newId());
        for (var b : List.of(created, lost)) {
            journal.intended(new BatchJournal.Batch(b.provider(), b.modelId(), b.journalId(), null, b.items(),
                    b.submittedAt()));
        }

        // a restart finds both as intents: no batch id, their items, under their journal ids
        assertThat(journal.claimOpen()).filteredOn(b -> b.journalId().equals(created.journalId())
                || b.journalId().equals(lost.journalId())).hasSize(2).allSatisfy(b -> {
                    assertThat(b.intent()).isTrue();
                    assertThat(b.items()).hasSize(2);
                });

        // resolved with the provider: one was created (polled on, ended, answers a repeat), one was not (gone)
        journal.created("openai", created.journalId(), created.batchId());
        journal.notCreated("openai", lost.journalId());
        assertThat(journal.claimOpen()).filteredOn(b -> b.journalId().equals(created.journalId())).singleElement()
                .satisfies(b -> assertThat(b.batchId()).isEqualTo(created.batchId()));
        assertThat(journal.claimOpen()).noneMatch(b -> b.journalId().equals(lost.journalId()));
        assertThat(count("SELECT count(*) FROM worker.provider_batch_items WHERE journal_id = '"
                + lost.journalId() + "'")).isZero();
        journal.ended("openai", created.batchId(), BatchJournal.End.ENDED, Map.of(created.batchId() + "-a", ANSWER));
        assertThat(journal.answer("openai", "gpt-batch", created.batchId() + "-a", "request-a")).contains(ANSWER);

        // a created batch is not closed as an intent that made none
        journal.notCreated("openai", created.journalId());
        assertThat(count("SELECT count(*) FROM worker.provider_batches WHERE journal_id = '"
                + created.journalId() + "'")).isOne();
    }

    @Test
    void theWorkerWithADatasourceJournalsInPostgresql() {
        assertThat(journal).isInstanceOf(BatchJournalRepository.class);
        assertThat(((BatchJournalRepository) journal).owner()).isEqualTo("replica-a");
    }

    @Test
    void aSubmittedBatchIsClaimedBackWithItsItemsByItsReplica() {
        var submitted = batch(newId());
        submit(submitted);

        var open = journal.claimOpen();

        assertThat(open).filteredOn(b -> b.batchId().equals(submitted.batchId())).singleElement().satisfies(b -> {
            assertThat(b.provider()).isEqualTo("openai");
            assertThat(b.modelId()).isEqualTo("gpt-batch");
            assertThat(b.submittedAt()).isEqualTo(submitted.submittedAt());
            assertThat(b.items()).containsExactlyInAnyOrderElementsOf(submitted.items());
        });
    }

    @Test
    void anotherReplicaTakesABatchOverOnlyOnceItsClaimLapsed() throws SQLException {
        var submitted = batch(newId());
        submit(submitted);
        var other = new BatchJournalRepository(dataSource, "replica-b", Duration.ofMinutes(5), Duration.ofHours(1));

        assertThat(other.claimOpen()).noneMatch(b -> b.batchId().equals(submitted.batchId()));
        execute("UPDATE worker.provider_batches SET claimed_until = now() - interval '1 second' WHERE batch_id = '"
                + submitted.batchId() + "'");

        assertThat(other.claimOpen()).anyMatch(b -> b.batchId().equals(submitted.batchId()));
        // replica-b renewed it: replica-a, polling on, no longer holds it
        assertThat(journal.claimOpen()).noneMatch(b -> b.batchId().equals(submitted.batchId()));
    }

    @Test
    void anEndedBatchAnswersARepeatOfTheSameRequestWithinTheRetentionAndIsPrunedAfter() throws SQLException {
        var submitted = batch(newId());
        submit(submitted);
        journal.ended("openai", submitted.batchId(), BatchJournal.End.ENDED, Map.of(submitted.batchId() + "-a", ANSWER));

        assertThat(journal.claimOpen()).noneMatch(b -> b.batchId().equals(submitted.batchId()));
        assertThat(journal.answer("openai", "gpt-batch", submitted.batchId() + "-a", "request-a")).contains(ANSWER);
        // another request under the same key, another model or provider: not this answer
        var item = submitted.batchId() + "-a";
        assertThat(journal.answer("openai", "gpt-batch", item, "another request")).isEmpty();
        assertThat(journal.answer("openai", "gpt-other", item, "request-a")).isEmpty();
        assertThat(journal.answer("anthropic", "gpt-batch", item, "request-a")).isEmpty();

        execute("UPDATE worker.provider_batches SET ended_at = now() - interval '61 minutes' WHERE batch_id = '"
                + submitted.batchId() + "'");
        assertThat(journal.answer("openai", "gpt-batch", item, "request-a")).isEmpty();
        journal.prune();
        assertThat(count("SELECT count(*) FROM worker.provider_batch_items WHERE journal_id = '"
                + submitted.journalId() + "'")).isZero();
        assertThat(count("SELECT count(*) FROM worker.provider_batches WHERE batch_id = '"
                + submitted.batchId() + "'")).isZero();
    }

    @Test
    void aCancelledBatchIsClosedWithoutAnswersAndAnOpenOneIsNeverPruned() throws SQLException {
        var cancelled = batch(newId());
        var open = batch(newId());
        submit(cancelled);
        submit(open);
        journal.ended("openai", cancelled.batchId(), BatchJournal.End.CANCELLED, Map.of());
        execute("UPDATE worker.provider_batches SET submitted_at = now() - interval '3 days'");

        journal.prune();

        assertThat(count("SELECT count(*) FROM worker.provider_batches WHERE state = 'CANCELLED' AND batch_id = '"
                + cancelled.batchId() + "'")).isOne();
        assertThat(journal.answer("openai", "gpt-batch", cancelled.batchId() + "-a", "request-a")).isEmpty();
        assertThat(journal.claimOpen()).anyMatch(b -> b.batchId().equals(open.batchId()));
    }

    private void execute(String sql) throws SQLException {
        try (var c = dataSource.getConnection(); var s = c.createStatement()) {
            s.executeUpdate(sql);
        }
    }

    private long count(String sql) throws SQLException {
        try (var c = dataSource.getConnection(); var s = c.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
