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

    /** A batch left open in the journal (by an earlier run of the service, or a replica gone) is polled on here. */
    default void resumed(String provider, String modelId, int items) {
    }

    /** Items of an ended batch answered with no caller waiting: recorded for a repeat of their key. */
    default void collected(String provider, String modelId, int items) {
    }

    /** A keyed call answered from the journal's record of its item: no new provider item. */
    default void answeredFromJournal(String provider, String modelId) {
    }

    /**
     * An intent left in the journal (a create whose answer was lost: a crash between the create and the journal
     * update) was resolved with the provider: {@code outcome} created (its batch is polled on), not_created (none was
     * made: closed), or unknown (the provider cannot look batches up by our journal id: closed, and its items may be
     * paid twice).
     */
    default void intentResolved(String provider, String modelId, String outcome) {
    }

    /**
     * A journal read or write failed ({@code operation}: intended, created, not_created, ended, claim, answer,
     * prune).
     */
    default void journalFailed(String operation) {
    }
}
