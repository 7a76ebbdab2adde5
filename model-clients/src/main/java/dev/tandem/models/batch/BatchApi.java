package dev.tandem.models.batch;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One provider's batch API for one model: submit many chat requests as one batch, poll it, read its results, cancel
 * it. Implementations map provider errors to {@link dev.tandem.models.chat.ModelCallException}s and do not retry
 * (the {@link BatchCoordinator} re-submits failed items in its next batch).
 */
public interface BatchApi {

    /** The provider's name, for logs and metrics: "openai" or "anthropic". */
    String provider();

    /**
     * Submits the items as one batch, named by {@code journalId} where the provider keeps a name with the batch (the
     * {@link BatchJournal} wrote the batch's intent under it just before), so that {@link #find} can tell whether a
     * create whose answer was lost (a crash, a timeout) made a batch.
     *
     * @return the provider's batch id
     */
    String submit(String journalId, List<BatchItem> items);

    /**
     * Whether {@link #find} can tell if a batch was created for a journal id: the provider lists its batches with
     * the name they were created under.
     */
    boolean canFind();

    /**
     * The provider's batch created under {@code journalId} no earlier than {@code since} (minus a few minutes of
     * clock skew), listing the provider's batches newest first; empty when it has none.
     *
     * @throws UnsupportedOperationException when {@link #canFind()} is false
     */
    Optional<String> find(String journalId, Instant since);

    /**
     * The batch's state; when it has ended, the result of every item the provider reported.
     *
     * @param forms how each submitted item's answer is read, by custom id (a result for another id is an error)
     */
    BatchPoll poll(String batchId, Map<String, BatchItem.Form> forms);

    /** Asks the provider to cancel the batch (items already processed are still billed). */
    void cancel(String batchId);
}
