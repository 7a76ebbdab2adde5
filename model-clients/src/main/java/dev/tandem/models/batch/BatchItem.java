package dev.tandem.models.batch;

import dev.tandem.models.chat.ChatRequest;

/**
 * One chat request of a batch.
 *
 * @param customId the id the provider echoes with the item's result ({@code custom_id}), unique within the batch
 */
public record BatchItem(String customId, ChatRequest request) {
}
