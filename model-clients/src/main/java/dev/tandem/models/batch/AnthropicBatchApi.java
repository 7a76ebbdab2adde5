package dev.tandem.models.batch;

import com.anthropic.core.ObjectMappers;
import com.anthropic.models.ErrorObject;
import com.anthropic.models.messages.batches.BatchCreateParams;
import com.anthropic.models.messages.batches.MessageBatch;
import com.anthropic.models.messages.batches.MessageBatchIndividualResponse;
import com.anthropic.models.messages.batches.MessageBatchResult;
import dev.tandem.models.anthropic.AnthropicModelClient;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Anthropic's Message Batches through the official SDK (the same client, key and base URL as the model's chat
 * calls): {@code POST /v1/messages/batches} with {@code requests[{custom_id, params}]} (each params exactly the body
 * a chat call would send), polled with {@code GET /v1/messages/batches/{id}} until {@code processing_status} is
 * {@code ended}, then its results JSONL ({@code results_url}) read: {@code succeeded}, {@code errored} (retryable
 * unless the request was invalid or not permitted), {@code canceled}, {@code expired}. Nothing of a batch is kept here: the items' answer forms come with each poll, so a
 * batch reloaded after a restart is read as its first run would have read it.
 */
public final class AnthropicBatchApi implements BatchApi {

    private final AnthropicModelClient client;

    public AnthropicBatchApi(AnthropicModelClient client) {
        this.client = client;
    }

    @Override
    public String provider() {
        return "anthropic";
    }

    @Override
    public String submit(String journalId, List<BatchItem> items) {
        var params = BatchCreateParams.builder();
        for (var item : items) {
            var body = client.params(item.request())._body();
            params.addRequest(BatchCreateParams.Request.builder().customId(item.customId())
                    .params(ObjectMappers.jsonMapper().convertValue(body, BatchCreateParams.Request.Params.class))
                    .build());
        }
        return client.withSdk(sdk -> sdk.messages().batches().create(params.build())).id();
    }

    /**
     * No: a Message Batch keeps no name of ours ({@code POST /v1/messages/batches} takes {@code requests} only, and
     * {@code GET /v1/messages/batches} lists no metadata and no requests; the {@code custom_id}s show only in the
     * results of an ended batch), so a batch whose create answer was lost cannot be told from another's.
     */
    @Override
    public boolean canFind() {
        return false;
    }

    @Override
    public Optional<String> find(String journalId, Instant since) {
        throw new UnsupportedOperationException("Anthropic Message Batches carry no journal id to find a batch by");
    }

    @Override
    public BatchPoll poll(String batchId, Map<String, BatchItem.Form> forms) {
        MessageBatch batch = client.withSdk(sdk -> sdk.messages().batches().retrieve(batchId));
        var status = batch.processingStatus().asString();
        if (batch.processingStatus().value() != MessageBatch.ProcessingStatus.Value.ENDED) {
            return BatchPoll.running(status);
        }
        var results = new HashMap<String, ItemResult>();
        client.withSdk(sdk -> {
            try (var stream = sdk.messages().batches().resultsStreaming(batchId)) {
                stream.stream().forEach(r -> results.put(r.customId(), result(r, forms.get(r.customId()))));
            }
            return null;
        });
        return new BatchPoll(true, status, results);
    }

    @Override
    public void cancel(String batchId) {
        client.withSdk(sdk -> sdk.messages().batches().cancel(batchId));
    }

    private ItemResult result(MessageBatchIndividualResponse response, BatchItem.Form form) {
        MessageBatchResult result = response.result();
        if (result.isSucceeded()) {
            if (form == null) {
                return new ItemResult.Errored("a result for an item this service did not submit", false);
            }
            try {
                return new ItemResult.Succeeded(client.response(result.asSucceeded().message(),
                        form == BatchItem.Form.SCHEMA, Duration.ZERO));
            } catch (ModelCallException e) {
                return new ItemResult.Errored(e.getMessage(), e.kind() != Kind.BAD_REQUEST);
            }
        }
        if (result.isErrored()) {
            ErrorObject error = result.asErrored().error().error();
            boolean permanent = error.invalidRequestError().isPresent() || error.authenticationError().isPresent()
                    || error.permissionError().isPresent() || error.notFoundError().isPresent()
                    || error.billingError().isPresent();
            return new ItemResult.Errored(error.message(), !permanent);
        }
        if (result.isExpired()) {
            return new ItemResult.Expired();
        }
        return new ItemResult.Canceled();
    }
}
