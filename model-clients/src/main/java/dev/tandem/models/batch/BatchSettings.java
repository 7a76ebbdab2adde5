package dev.tandem.models.batch;

import java.time.Duration;

/**
 * How the {@link BatchCoordinator} groups and follows batches.
 *
 * @param maxItems     a batch is submitted once this many calls of one model wait (the providers accept tens of
 *                     thousands per batch)
 * @param maxWait      or this long after the first of them arrived
 * @param pollInterval how often a submitted batch is polled
 * @param retryLimit   how many times an item whose request errored is submitted again, each time in the next batch,
 *                     before its call fails (expired items are submitted again as long as the caller's deadline
 *                     allows, without counting)
 */
public record BatchSettings(int maxItems, Duration maxWait, Duration pollInterval, int retryLimit) {

    public BatchSettings {
        if (maxItems < 1) {
            throw new IllegalArgumentException("a batch holds at least one item, not " + maxItems);
        }
        if (maxWait.isNegative() || pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("batch max-wait must be >= 0 and poll-interval > 0");
        }
        if (retryLimit < 0) {
            throw new IllegalArgumentException("batch retry-limit must be >= 0, not " + retryLimit);
        }
    }
}
