package dev.tandem.models.batch;

import java.util.Map;

/**
 * A batch as its provider reports it.
 *
 * @param ended   whether the batch has ended (completed, expired, cancelled or failed): its results are final
 * @param status  the provider's own status, for logs ("in_progress", "completed", "expired", "ended", ...)
 * @param results by custom id, once ended; an item missing here got no result (for example a batch that failed
 *                validation as a whole reports every item through {@code missing})
 * @param missing what became of an item missing from {@code results} (an expired batch's requests that never ran);
 *                null when a missing item is an error
 */
public record BatchPoll(boolean ended, String status, Map<String, ItemResult> results, ItemResult missing) {

    public BatchPoll {
        results = Map.copyOf(results);
    }

    public BatchPoll(boolean ended, String status, Map<String, ItemResult> results) {
        this(ended, status, results, null);
    }

    /** A batch still running. */
    public static BatchPoll running(String status) {
        return new BatchPoll(false, status, Map.of());
    }

    /** The item's result; {@code missing} when the provider reported none, null when that is an error. */
    public ItemResult result(String customId) {
        var r = results.get(customId);
        return r != null ? r : missing;
    }
}
