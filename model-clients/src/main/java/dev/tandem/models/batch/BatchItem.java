package dev.tandem.models.batch;

import dev.tandem.models.chat.ChatRequest;

/**
 * One chat request of a batch.
 *
 * @param customId the id the provider echoes with the item's result ({@code custom_id}), unique within the batch
 */
public record BatchItem(String customId, ChatRequest request) {

    /**
     * How an item's answer is read from its result: as free text, or as the answer to a response schema (Anthropic's
     * answer tool). All a batch needs of its requests once submitted, so a batch reloaded after a restart, whose
     * requests are gone, is read as the first run would have read it.
     */
    public enum Form {
        TEXT, SCHEMA;

        public static Form of(ChatRequest request) {
            return request.responseSchema().isPresent() ? SCHEMA : TEXT;
        }
    }
}
