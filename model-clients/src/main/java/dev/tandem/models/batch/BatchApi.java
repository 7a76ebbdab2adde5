package dev.tandem.models.batch;

import java.util.List;
import java.util.Map;

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

    /**
     * The batch's state; when it has ended, the result of every item the provider reported.
     *
     * @param forms how each submitted item's answer is read, by custom id (a result for another id is an error)
     */
    BatchPoll poll(String batchId, Map<String, BatchItem.Form> forms);

    /** Asks the provider to cancel the batch (items already processed are still billed). */
    void cancel(String batchId);
}
