package dev.tandem.models.batch;

import java.time.Duration;

/** What a service learns from its batches, for its metrics. The default does nothing. */
public interface BatchListener {

    BatchListener NONE = new BatchListener() {
    };

    /** A batch was submitted. */
    default void submitted(String provider, String modelId, int items) {
    }

    /**
     * A batch ended, {@code turnaround} after it was submitted, with that many items succeeded, errored (submitted
     * again or failed), expired and cancelled.
     */
    default void ended(String provider, String modelId, Duration turnaround, int succeeded, int errored, int expired,
                       int cancelled) {
    }
}
