package dev.tandem.models.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Anthropic's Message Batches as the real API speaks them: {@code POST /v1/messages/batches} with
 * {@code requests[{custom_id, params}]}, {@code GET /v1/messages/batches/{id}} with {@code processing_status}
 * in_progress -> ended (canceling -> ended after a cancel) and a {@code results_url}, the results JSONL
 * ({@code GET /v1/messages/batches/{id}/results}: {@code succeeded} with the message, {@code errored} with the error
 * object, {@code canceled}, {@code expired}), and {@code POST /v1/messages/batches/{id}/cancel}.
 */
final class FakeAnthropicBatches extends FakeBatchServer {

    private final Map<String, ObjectNode> batches = new ConcurrentHashMap<>();
    private final Map<String, List<JsonNode>> requests = new ConcurrentHashMap<>();
    private final Map<String, String> results = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> polls = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    FakeAnthropicBatches() throws IOException {
        route("/v1/messages/batches", this::handle);
        start();
    }

    private Reply handle(HttpExchange exchange) {
        var path = exchange.getRequestURI().getPath();
        var method = exchange.getRequestMethod();
        if (method.equals("POST") && path.equals("/v1/messages/batches")) {
            var body = readJson(exchange);
            var items = new ArrayList<JsonNode>();
            var messages = new ArrayList<String>();
            var customIds = new ArrayList<String>();
            for (var r : body.path("requests")) {
                var params = r.path("params");
                if (r.path("custom_id").asText().isEmpty() || !params.has("model") || !params.has("max_tokens")
                        || !params.path("messages").isArray()) {
                    return new Reply(400, "application/json", "{\"type\":\"error\",\"error\":{\"type\":"
                            + "\"invalid_request_error\",\"message\":\"each request needs custom_id and params\"}}");
                }
                // as the API: custom_id matches ^[a-zA-Z0-9_-]{1,64}$ and is unique within the batch
                var customId = r.path("custom_id").asText();
                if (!customId.matches("[a-zA-Z0-9_-]{1,64}") || customIds.contains(customId)) {
                    return new Reply(400, "application/json", "{\"type\":\"error\",\"error\":{\"type\":"
                            + "\"invalid_request_error\",\"message\":\"requests.custom_id: invalid or duplicate\"}}");
                }
                customIds.add(customId);
                items.add(r);
                messages.add(userMessage(params));
            }
            submittedMessages.add(messages);
            submittedCustomIds.add(customIds);
            var id = "msgbatch_" + ids.incrementAndGet();
            var batch = object().put("id", id).put("type", "message_batch").put("processing_status", "in_progress")
                    .put("created_at", Instant.now().toString())
                    .put("expires_at", Instant.now().plus(24, ChronoUnit.HOURS).toString());
            batch.putNull("ended_at");
            batch.putNull("cancel_initiated_at");
            batch.putNull("archived_at");
            batch.putNull("results_url");
            counts(batch, items.size(), 0, 0, 0, 0);
            batches.put(id, batch);
            requests.put(id, items);
            polls.put(id, new AtomicInteger());
            return Reply.json(batch);
        }
        var rest = path.substring("/v1/messages/batches/".length());
        if (method.equals("POST") && rest.endsWith("/cancel")) {
            var id = rest.substring(0, rest.length() - "/cancel".length());
            var batch = batches.get(id);
            if (batch == null) {
                return Reply.notFound("batch " + id);
            }
            cancelled.add(id);
            synchronized (batch) {
                batch.put("processing_status", "canceling").put("cancel_initiated_at", Instant.now().toString());
                return Reply.json(batch.deepCopy());
            }
        }
        if (method.equals("GET") && rest.endsWith("/results")) {
            var id = rest.substring(0, rest.length() - "/results".length());
            var jsonl = results.get(id);
            return jsonl == null ? Reply.notFound("results of " + id) : new Reply(200, "application/x-jsonl", jsonl);
        }
        var batch = batches.get(rest);
        if (batch == null) {
            return Reply.notFound("batch " + rest);
        }
        synchronized (batch) {
            var status = batch.path("processing_status").asText();
            if (status.equals("canceling") || status.equals("in_progress")
                    && polls.get(rest).incrementAndGet() >= pollsBeforeEnd) {
                end(rest, batch, status.equals("canceling"));
            }
            return Reply.json(batch.deepCopy());
        }
    }

    private void end(String id, ObjectNode batch, boolean canceled) {
        var jsonl = new StringBuilder();
        int succeeded = 0;
        int errored = 0;
        int expired = 0;
        int cancelledItems = 0;
        for (var r : requests.get(id)) {
            var params = r.path("params");
            var message = userMessage(params);
            var line = object().put("custom_id", r.path("custom_id").asText());
            var result = line.putObject("result");
            var fate = canceled ? null : script.fate(message, submissions(message));
            switch (fate) {
                case null -> {
                    result.put("type", "canceled");
                    cancelledItems++;
                }
                case Fate.Answer a -> {
                    result.put("type", "succeeded");
                    var msg = result.putObject("message").put("id", "msg_" + Math.abs(message.hashCode()))
                            .put("type", "message").put("role", "assistant").put("model", params.path("model").asText())
                            .put("stop_reason", "end_turn");
                    msg.putNull("stop_sequence");
                    msg.putArray("content").addObject().put("type", "text").put("text", a.text());
                    msg.putObject("usage").put("input_tokens", 30).put("output_tokens", 6)
                            .put("cache_creation_input_tokens", 0).put("cache_read_input_tokens", 0);
                    succeeded++;
                }
                case Fate.Error e -> {
                    result.put("type", "errored");
                    result.putObject("error").put("type", "error").putObject("error").put("type", e.type())
                            .put("message", e.message());
                    errored++;
                }
                case Fate.Expire x -> {
                    result.put("type", "expired");
                    expired++;
                }
            }
            jsonl.append(line).append('\n');
        }
        results.put(id, jsonl.toString());
        batch.put("processing_status", "ended").put("ended_at", Instant.now().toString())
                .put("results_url", baseUrl() + "/v1/messages/batches/" + id + "/results");
        counts(batch, 0, succeeded, errored, cancelledItems, expired);
    }

    private static void counts(ObjectNode batch, int processing, int succeeded, int errored, int canceled,
                               int expired) {
        batch.putObject("request_counts").put("processing", processing).put("succeeded", succeeded)
                .put("errored", errored).put("canceled", canceled).put("expired", expired);
    }

    static String userMessage(JsonNode params) {
        for (var m : params.path("messages")) {
            if (m.path("role").asText().equals("user")) {
                var content = m.path("content");
                return content.isTextual() ? content.asText() : content.path(0).path("text").asText();
            }
        }
        return "";
    }
}
