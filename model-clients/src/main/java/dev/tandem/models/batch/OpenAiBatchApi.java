package dev.tandem.models.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.openai.core.JsonValue;
import com.openai.core.MultipartField;
import com.openai.core.ObjectMappers;
import com.openai.models.batches.Batch;
import com.openai.models.batches.BatchCreateParams;
import com.openai.models.batches.BatchListParams;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.files.FileCreateParams;
import com.openai.models.files.FilePurpose;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;
import dev.tandem.models.openai.OpenAiModelClient;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * OpenAI's Batch API through the official SDK (the same client, key and base URL as the model's chat calls): the
 * items as a JSONL file of {@code /v1/chat/completions} requests with their {@code custom_id}s uploaded to
 * {@code /v1/files} (purpose {@code batch}), a batch created on it ({@code /v1/batches}, completion window 24h, the
 * journal id in its {@code metadata}, so {@link #find} can look it up in {@code GET /v1/batches} after a lost answer),
 * polled with {@code GET /v1/batches/{id}}; once it has ended, the {@code output_file_id} and {@code error_file_id}
 * contents are read. An item in the error file with {@code batch_expired} expired, with {@code batch_cancelled} was
 * cancelled; a 429 or 5xx response is retryable, another 4xx is not. Per-request headers of the model's endpoint
 * cannot travel in a batch and are left out.
 */
public final class OpenAiBatchApi implements BatchApi {

    private static final JsonMapper JSON = ObjectMappers.jsonMapper();

    private final OpenAiModelClient client;

    public OpenAiBatchApi(OpenAiModelClient client) {
        this.client = client;
    }

    @Override
    public String provider() {
        return "openai";
    }

    /** The metadata key of the batch's journal id ({@code metadata}: up to 16 pairs, values up to 512 characters). */
    static final String JOURNAL_ID = "tandem_journal_id";
    /** How far a provider's clock (a batch's {@code created_at}) may lag ours when looking for a batch. */
    private static final Duration SKEW = Duration.ofMinutes(5);

    @Override
    public String submit(String journalId, List<BatchItem> items) {
        var jsonl = new StringBuilder();
        for (var item : items) {
            ObjectNode line = JSON.createObjectNode();
            line.put("custom_id", item.customId()).put("method", "POST").put("url", "/v1/chat/completions");
            line.set("body", JSON.valueToTree(client.params(item.request())._body()));
            jsonl.append(line).append('\n');
        }
        byte[] bytes = jsonl.toString().getBytes(StandardCharsets.UTF_8);
        var file = client.withSdk(sdk -> sdk.files().create(FileCreateParams.builder()
                .file(MultipartField.<InputStream>builder().value(new ByteArrayInputStream(bytes))
                        .filename("tandem-batch.jsonl").contentType("application/jsonl").build())
                .purpose(FilePurpose.BATCH).build()));
        var batch = client.withSdk(sdk -> sdk.batches().create(BatchCreateParams.builder()
                .inputFileId(file.id())
                .endpoint(BatchCreateParams.Endpoint.V1_CHAT_COMPLETIONS)
                .completionWindow(BatchCreateParams.CompletionWindow._24H)
                .metadata(BatchCreateParams.Metadata.builder()
                        .putAdditionalProperty(JOURNAL_ID, JsonValue.from(journalId)).build())
                .build()));
        return batch.id();
    }

    @Override
    public boolean canFind() {
        return true;
    }

    /** {@code GET /v1/batches} pages (newest first) back to {@code since}: the batch whose metadata names the id. */
    @Override
    public Optional<String> find(String journalId, Instant since) {
        long from = since.minus(SKEW).getEpochSecond();
        return client.withSdk(sdk -> {
            var page = sdk.batches().list(BatchListParams.builder().limit(100).build());
            while (true) {
                for (Batch batch : page.data()) {
                    if (batch.createdAt() < from) {
                        return Optional.<String>empty(); // older than the intent: no further page can have it
                    }
                    var named = batch.metadata().map(m -> m._additionalProperties().get(JOURNAL_ID))
                            .flatMap(v -> v.asString());
                    if (named.isPresent() && named.get().equals(journalId)) {
                        return Optional.of(batch.id());
                    }
                }
                if (!page.hasNextPage()) {
                    return Optional.<String>empty();
                }
                page = page.nextPage();
            }
        });
    }

    @Override
    public BatchPoll poll(String batchId, Map<String, BatchItem.Form> forms) {
        // a chat completion's answer is its message's content, with or without a response schema
        Batch batch = client.withSdk(sdk -> sdk.batches().retrieve(batchId));
        var status = batch.status().asString();
        var known = batch.status().value();
        switch (known) {
            case COMPLETED, EXPIRED, CANCELLED -> {
                // fall through to the result files
            }
            case FAILED -> {
                // the input file failed validation: no request ran
                var why = batch.errors().flatMap(Batch.Errors::data).map(errors -> errors.stream()
                        .map(e -> e.message().orElse(e.code().orElse("error"))).toList().toString())
                        .orElse("the batch failed");
                return failedBatch(status, why);
            }
            default -> {
                return BatchPoll.running(status);
            }
        }
        var results = new HashMap<String, ItemResult>();
        batch.outputFileId().ifPresent(id -> readLines(id, results));
        batch.errorFileId().ifPresent(id -> readLines(id, results));
        if (known == Batch.Status.Value.EXPIRED || known == Batch.Status.Value.CANCELLED) {
            // requests that never ran may be missing from both files
            var rest = known == Batch.Status.Value.EXPIRED ? new ItemResult.Expired() : new ItemResult.Canceled();
            return new BatchPoll(true, status, results, rest);
        }
        return new BatchPoll(true, status, results);
    }

    @Override
    public void cancel(String batchId) {
        client.withSdk(sdk -> sdk.batches().cancel(batchId));
    }

    private static BatchPoll failedBatch(String status, String why) {
        return new BatchPoll(true, status, Map.of(), new ItemResult.Errored("the batch was refused: " + why, false));
    }

    private void readLines(String fileId, Map<String, ItemResult> into) {
        client.withSdk(sdk -> {
            try (var response = sdk.files().content(fileId);
                 var reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    if (!line.isBlank()) {
                        var node = JSON.readTree(line);
                        into.put(node.path("custom_id").asText(), result(node));
                    }
                }
                return null;
            } catch (IOException e) {
                throw new ModelCallException(Kind.UNAVAILABLE, client.modelId(), "could not read batch file "
                        + fileId + ": " + e.getMessage());
            }
        });
    }

    /** One line of an output or error file. */
    ItemResult result(JsonNode line) throws JsonProcessingException {
        var error = line.path("error");
        if (error.isObject()) {
            var code = error.path("code").asText("");
            var message = error.path("message").asText(code);
            return switch (code) {
                case "batch_expired" -> new ItemResult.Expired();
                case "batch_cancelled" -> new ItemResult.Canceled();
                default -> new ItemResult.Errored(code + ": " + message, true);
            };
        }
        var response = line.path("response");
        int statusCode = response.path("status_code").asInt(0);
        var body = response.path("body");
        if (statusCode == 200 && body.isObject()) {
            ChatCompletion completion = JSON.treeToValue(body, ChatCompletion.class);
            try {
                ChatResponse answer = client.response(completion, Duration.ZERO);
                return new ItemResult.Succeeded(answer);
            } catch (ModelCallException e) {
                return new ItemResult.Errored(e.getMessage(), e.kind() != Kind.BAD_REQUEST);
            }
        }
        var message = body.path("error").path("message").asText(body.toString());
        boolean retryable = statusCode == 408 || statusCode == 429 || statusCode >= 500 || statusCode == 0;
        return new ItemResult.Errored("HTTP " + statusCode + ": " + message, retryable);
    }
}
