package dev.tandem.models.batch;

import java.util.List;

/**
 * One provider's batch API for one model: submit many chat requests as one batch, poll it, read its results, cancel
 * it. Implementations map provider errors to {@link dev.tandem.models.chat.ModelCallException}s and do not retry
 * (the {@link BatchCoordinator} re-submits failed items in its next batch).
 */
public interface BatchApi {

    /** The provider's name, for logs and metrics: "openai" or "anthropic". */
    String provider();

    /**
     * Submits the items as one batch.
     *
     * @return the provider's batch id
     */
    String submit(List<BatchItem> items);

    /** The batch's state; when it has ended, the result of every item the provider reported. */
    BatchPoll poll(String batchId);

    /** Asks the provider to cancel the batch (items already processed are still billed). */
    void cancel(String batchId);
}
