package dev.tandem.models.batch;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

import dev.tandem.models.chat.ChatResponse;

/**
 * The journal of a process that dies at one point of a batch's submission: the write there never happens and the
 * thread making it hangs until the process is stopped; what was written before is in {@code durable}, which the
 * restarted process reads.
 */
public final class CrashingJournal implements BatchJournal {
    public enum At { BEFORE_THE_CREATE, BETWEEN_THE_CREATE_AND_THE_JOURNAL_UPDATE }

    private final BatchJournal durable;
    private final At at;
    /** Counted down when the process "dies". */
    public final CountDownLatch crashed = new CountDownLatch(1);

    public CrashingJournal(BatchJournal durable, At at) {
        this.durable = durable;
        this.at = at;
    }

    private void crash() {
        crashed.countDown();
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("the process is gone");
    }

    @Override
    public void intended(Batch batch) {
        durable.intended(batch);
        if (at == At.BEFORE_THE_CREATE) {
            crash();
        }
    }

    @Override
    public void created(String provider, String journalId, String batchId) {
        if (at == At.BETWEEN_THE_CREATE_AND_THE_JOURNAL_UPDATE) {
            crash();
        }
        durable.created(provider, journalId, batchId);
    }

    @Override
    public void notCreated(String provider, String journalId) {
        durable.notCreated(provider, journalId);
    }

    @Override
    public void ended(String provider, String batchId, End end, Map<String, ChatResponse> answers) {
        durable.ended(provider, batchId, end, answers);
    }

    @Override
    public List<Batch> claimOpen() {
        return durable.claimOpen();
    }

    @Override
    public Optional<ChatResponse> answer(String provider, String modelId, String customId, String digest) {
        return durable.answer(provider, modelId, customId, digest);
    }

    @Override
    public void prune() {
        durable.prune();
    }
}
