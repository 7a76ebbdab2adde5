package dev.tandem.models.batch;

import dev.tandem.models.chat.ChatResponse;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The journal of a service without a database: what it holds is lost with the process. One process is its only
 * reader, so every open batch is this one's to poll.
 */
final class InMemoryBatchJournal implements BatchJournal {

    private record Entry(Batch batch, End end, Instant endedAt, Map<String, ChatResponse> answers) {
    }

    private final Duration retention;
    /** Batches by journal id. */
    private final Map<String, Entry> batches = new ConcurrentHashMap<>();

    InMemoryBatchJournal(Duration retention) {
        this.retention = retention;
    }

    @Override
    public void intended(Batch batch) {
        batches.put(batch.journalId(), new Entry(batch, null, null, Map.of()));
    }

    @Override
    public void created(String provider, String journalId, String batchId) {
        batches.computeIfPresent(journalId, (k, e) -> new Entry(e.batch().created(batchId), e.end(), e.endedAt(),
                e.answers()));
    }

    @Override
    public void notCreated(String provider, String journalId) {
        batches.computeIfPresent(journalId, (k, e) -> e.batch().intent() ? null : e);
    }

    @Override
    public void ended(String provider, String batchId, End end, Map<String, ChatResponse> answers) {
        batches.replaceAll((k, e) -> e.end() == null && e.batch().provider().equals(provider)
                && batchId.equals(e.batch().batchId()) ? new Entry(e.batch(), end, Instant.now(), Map.copyOf(answers))
                : e);
    }

    @Override
    public List<Batch> claimOpen() {
        return batches.values().stream().filter(e -> e.end() == null).map(Entry::batch).toList();
    }

    @Override
    public Optional<ChatResponse> answer(String provider, String modelId, String customId, String requestDigest) {
        var since = Instant.now().minus(retention);
        return batches.values().stream()
                .filter(e -> e.end() != null && e.endedAt().isAfter(since))
                .filter(e -> e.batch().provider().equals(provider) && e.batch().modelId().equals(modelId))
                .filter(e -> e.batch().items().stream().anyMatch(i -> i.customId().equals(customId)
                        && i.requestDigest().equals(requestDigest)))
                .map(e -> e.answers().get(customId))
                .filter(a -> a != null)
                .findFirst();
    }

    @Override
    public void prune() {
        var before = Instant.now().minus(retention);
        batches.values().removeIf(e -> e.end() != null && e.endedAt().isBefore(before));
    }
}
