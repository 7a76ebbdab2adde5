package dev.tandem.models.batch;

import dev.tandem.models.chat.ChatResponse;

/** What became of one item of an ended batch. */
public sealed interface ItemResult {

    /** The model answered. */
    record Succeeded(ChatResponse response) implements ItemResult {
    }

    /**
     * The request failed.
     *
     * @param retryable whether the same request may succeed in a later batch (a server error, overload or rate
     *                  limit); false for a request the provider rejects as invalid
     */
    record Errored(String message, boolean retryable) implements ItemResult {
    }

    /** The batch's completion window ended before the request ran. */
    record Expired() implements ItemResult {
    }

    /** The batch was cancelled before the request ran. */
    record Canceled() implements ItemResult {
    }
}
