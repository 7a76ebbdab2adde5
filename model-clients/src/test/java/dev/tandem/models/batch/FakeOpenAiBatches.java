package dev.tandem.models.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * OpenAI's Batch API as the real one speaks it: {@code POST /v1/files} (multipart, purpose {@code batch}, a JSONL of
 * {@code {custom_id, method, url, body}} lines), {@code POST /v1/batches} ({@code input_file_id}, {@code endpoint},
 * {@code completion_window}), {@code GET /v1/batches/{id}} moving validating -> in_progress -> completed (or expired
 * when a request's fate is to expire), {@code GET /v1/files/{id}/content} with the output file (200 responses) and
 * the error file (non-200 responses and {@code batch_expired} / {@code batch_cancelled} errors), and
 * {@code POST /v1/batches/{id}/cancel}, and {@code GET /v1/batches} (newest first, {@code limit} and {@code after},
 * with each batch's {@code metadata}). Also {@code POST /v1/chat/completions} for interactive calls.
 */
public final class FakeOpenAiBatches extends FakeBatchServer {

    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, ObjectNode> batches = new ConcurrentHashMap<>();
    private final Map<String, List<JsonNode>> batchLines = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> polls = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    final List<String> uploadedPurposes = new ArrayList<>();
    final List<String> completionWindows = new ArrayList<>();
    final AtomicInteger interactiveCalls = new AtomicInteger();
    /** The next this many creates make their batch but answer 502, as a create whose answer is lost. */
    public final AtomicInteger createAnswersLost = new AtomicInteger();
    /**
     * When set, a create makes its batch, counts this latch down, and holds its answer until {@link #releaseCreates}
     * (or the server closes): the client that sent it can be killed after the provider made the batch and before it
     * learnt the batch's id.
     */
    public volatile java.util.concurrent.CountDownLatch createsHeld;
    private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    /** The batch ids in the order they were created (the list answers newest first). */
    private final List<String> created = new java.util.concurrent.CopyOnWriteArrayList<>();

    public FakeOpenAiBatches() throws IOException {
        route("/v1/files", this::files);
        route("/v1/batches", this::batches);
        route("/v1/chat/completions", exchange -> {
            interactiveCalls.incrementAndGet();
            var body = readJson(exchange);
            return Reply.json(completion("echo: " + userMessage(body), body.path("model").asText()));
        });
        start();
    }

    private Reply files(HttpExchange exchange) {
        var path = exchange.getRequestURI().getPath();
        if (exchange.getRequestMethod().equals("POST") && path.equals("/v1/files")) {
            var parts = Multipart.parse(exchange);
            uploadedPurposes.add(parts.text("purpose"));
            var id = "file-" + ids.incrementAndGet();
            byte[] content = parts.bytes("file");
            files.put(id, content);
            return Reply.json(object().put("id", id).put("object", "file").put("bytes", content.length)
                    .put("created_at", now()).put("filename", parts.filename("file")).put("purpose", "batch")
                    .put("status", "processed"));
        }
        if (exchange.getRequestMethod().equals("GET") && path.endsWith("/content")) {
            var id = path.substring("/v1/files/".length(), path.length() - "/content".length());
            var content = files.get(id);
            return content == null ? Reply.notFound("file " + id)
                    : new Reply(200, "application/octet-stream", new String(content, StandardCharsets.UTF_8));
        }
        return Reply.notFound(path);
    }

    private Reply batches(HttpExchange exchange) {
        var path = exchange.getRequestURI().getPath();
        if (exchange.getRequestMethod().equals("GET") && path.equals("/v1/batches")) {
            return list(exchange.getRequestURI().getRawQuery());
        }
        if (exchange.getRequestMethod().equals("POST") && path.equals("/v1/batches")) {
            var request = readJson(exchange);
            // as the API: metadata is up to 16 string pairs, keys up to 64 characters, values up to 512
            var metadata = request.path("metadata");
            if (metadata.isObject() && (metadata.size() > 16 || metadata.properties().stream().anyMatch(e ->
                    e.getKey().length() > 64 || !e.getValue().isTextual() || e.getValue().asText().length() > 512))) {
                return new Reply(400, "application/json", "{\"error\":{\"message\":\"invalid metadata\"}}");
            }
            var input = files.get(request.path("input_file_id").asText());
            if (input == null || !request.path("endpoint").asText().equals("/v1/chat/completions")) {
                return new Reply(400, "application/json",
                        "{\"error\":{\"message\":\"unknown input file or endpoint\"}}");
            }
            completionWindows.add(request.path("completion_window").asText());
            var lines = new ArrayList<JsonNode>();
            var messages = new ArrayList<String>();
            var customIds = new ArrayList<String>();
            try {
                for (var line : new String(input, StandardCharsets.UTF_8).split("\n")) {
                    if (!line.isBlank()) {
                        var node = JSON.readTree(line);
                        if (!node.path("method").asText().equals("POST")
                                || !node.path("url").asText().equals("/v1/chat/completions")
                                || node.path("custom_id").asText().isEmpty() || !node.path("body").has("model")) {
                            return new Reply(400, "application/json",
                                    "{\"error\":{\"message\":\"invalid batch line\"}}");
                        }
                        // as the API: a custom_id is unique within the batch's input file
                        if (customIds.contains(node.path("custom_id").asText())) {
                            return new Reply(400, "application/json",
                                    "{\"error\":{\"message\":\"duplicate custom_id in the input file\"}}");
                        }
                        customIds.add(node.path("custom_id").asText());
                        lines.add(node);
                        messages.add(userMessage(node.path("body")));
                    }
                }
            } catch (IOException e) {
                return new Reply(400, "application/json", "{\"error\":{\"message\":\"not JSONL\"}}");
            }
            submittedMessages.add(messages);
            submittedCustomIds.add(customIds);
            var id = "batch_" + ids.incrementAndGet();
            var batch = object().put("id", id).put("object", "batch").put("endpoint", "/v1/chat/completions")
                    .put("input_file_id", request.path("input_file_id").asText())
                    .put("completion_window", request.path("completion_window").asText())
                    .put("status", "validating").put("created_at", now());
            batch.putNull("output_file_id");
            batch.putNull("error_file_id");
            batch.putObject("request_counts").put("total", lines.size()).put("completed", 0).put("failed", 0);
            // kept with the batch and returned by retrieve and list; null if none
            if (metadata.isObject()) {
                batch.set("metadata", request.path("metadata").deepCopy());
            } else {
                batch.putNull("metadata");
            }
            batches.put(id, batch);
            batchLines.put(id, lines);
            polls.put(id, new AtomicInteger());
            created.add(id);
            var held = createsHeld;
            if (held != null) {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (createAnswersLost.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                return new Reply(502, "application/json", "{\"error\":{\"message\":\"Bad gateway\"}}");
            }
            return Reply.json(batch);
        }
        var rest = path.substring("/v1/batches/".length());
        if (exchange.getRequestMethod().equals("POST") && rest.endsWith("/cancel")) {
            var id = rest.substring(0, rest.length() - "/cancel".length());
            var batch = batches.get(id);
            if (batch == null) {
                return Reply.notFound("batch " + id);
            }
            cancelled.add(id);
            synchronized (batch) {
                batch.put("status", "cancelling");
            }
            return Reply.json(batch);
        }
        var batch = batches.get(rest);
        if (batch == null) {
            return Reply.notFound("batch " + rest);
        }
        synchronized (batch) {
            advance(rest, batch);
            return Reply.json(batch.deepCopy());
        }
    }

    /** Lets held creates answer (and every later one answer at once). */
    public void releaseCreates() {
        createsHeld = null;
        release.countDown();
    }

    @Override
    public void close() {
        releaseCreates();
        super.close();
    }

    /**
     * {@code GET /v1/batches?limit=&after=}: the organisation's batches newest first, {@code limit} (1-100, default
     * 20) after the batch id {@code after}, as a list object with {@code first_id}, {@code last_id} and
     * {@code has_more}.
     */
    private Reply list(String query) {
        int limit = 20;
        String after = null;
        for (var pair : query == null ? new String[0] : query.split("&")) {
            var kv = pair.split("=", 2);
            if (kv.length == 2 && kv[0].equals("limit")) {
                limit = Integer.parseInt(kv[1]);
            } else if (kv.length == 2 && kv[0].equals("after")) {
                after = java.net.URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
            }
        }
        if (limit < 1 || limit > 100) {
            return new Reply(400, "application/json", "{\"error\":{\"message\":\"limit must be 1-100\"}}");
        }
        var newestFirst = new ArrayList<>(created).reversed();
        int from = after == null ? 0 : newestFirst.indexOf(after) + 1;
        var page = newestFirst.subList(Math.min(from, newestFirst.size()), Math.min(from + limit, newestFirst.size()));
        var list = object().put("object", "list");
        var data = list.putArray("data");
        for (var id : page) {
            var batch = batches.get(id);
            synchronized (batch) {
                data.add(batch.deepCopy());
            }
        }
        if (page.isEmpty()) {
            list.putNull("first_id");
            list.putNull("last_id");
        } else {
            list.put("first_id", page.getFirst()).put("last_id", page.getLast());
        }
        list.put("has_more", from + page.size() < newestFirst.size());
        return Reply.json(list);
    }

    /** One poll: validating -> in_progress, then after pollsBeforeEnd polls the batch ends with its result files. */
    private void advance(String id, ObjectNode batch) {
        var status = batch.path("status").asText();
        switch (status) {
            case "validating" -> batch.put("status", "in_progress");
            case "cancelling" -> end(id, batch, "cancelled");
            case "in_progress" -> {
                if (polls.get(id).incrementAndGet() >= pollsBeforeEnd) {
                    end(id, batch, null);
                }
            }
            default -> {
                // ended: stays as it is
            }
        }
    }

    private void end(String id, ObjectNode batch, String forcedStatus) {
        var output = new StringBuilder();
        var errors = new StringBuilder();
        boolean anyExpired = false;
        int completed = 0;
        int failed = 0;
        for (var line : batchLines.get(id)) {
            var customId = line.path("custom_id").asText();
            var message = userMessage(line.path("body"));
            var fate = forcedStatus != null ? null : script.fate(message, submissions(message));
            var out = object().put("id", "batch_req_" + ids.incrementAndGet()).put("custom_id", customId);
            switch (fate) {
                case null -> {
                    out.putNull("response");
                    out.putObject("error").put("code", "batch_cancelled")
                            .put("message", "This request was cancelled before it ran.");
                    errors.append(out).append('\n');
                    failed++;
                }
                case Fate.Answer a -> {
                    var response = out.putObject("response").put("status_code", 200)
                            .put("request_id", "req_" + customId);
                    response.set("body", completion(a.text(), line.path("body").path("model").asText()));
                    out.putNull("error");
                    output.append(out).append('\n');
                    completed++;
                }
                case Fate.Error e -> {
                    var response = out.putObject("response").put("status_code", e.status())
                            .put("request_id", "req_" + customId);
                    response.putObject("body").putObject("error").put("message", e.message())
                            .put("type", e.type());
                    out.putNull("error");
                    errors.append(out).append('\n');
                    failed++;
                }
                case Fate.Expire x -> {
                    anyExpired = true;
                    out.putNull("response");
                    out.putObject("error").put("code", "batch_expired").put("message",
                            "This request could not be executed before the completion window expired.");
                    errors.append(out).append('\n');
                    failed++;
                }
            }
        }
        if (!output.isEmpty()) {
            var fileId = "file-" + ids.incrementAndGet();
            files.put(fileId, output.toString().getBytes(StandardCharsets.UTF_8));
            batch.put("output_file_id", fileId);
        }
        if (!errors.isEmpty()) {
            var fileId = "file-" + ids.incrementAndGet();
            files.put(fileId, errors.toString().getBytes(StandardCharsets.UTF_8));
            batch.put("error_file_id", fileId);
        }
        batch.put("status", forcedStatus != null ? forcedStatus : anyExpired ? "expired" : "completed");
        batch.putObject("request_counts").put("total", completed + failed).put("completed", completed)
                .put("failed", failed);
    }

    /** A chat completion answering {@code content}. */
    static ObjectNode completion(String content, String model) {
        var completion = object().put("id", "chatcmpl-" + Math.abs(content.hashCode())).put("object", "chat.completion")
                .put("created", now()).put("model", model);
        var choice = completion.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop");
        choice.putNull("logprobs");
        var msg = choice.putObject("message").put("role", "assistant").put("content", content);
        msg.putNull("refusal");
        completion.putObject("usage").put("prompt_tokens", 20).put("completion_tokens", 5).put("total_tokens", 25);
        return completion;
    }

    static String userMessage(JsonNode body) {
        for (var m : body.path("messages")) {
            if (m.path("role").asText().equals("user")) {
                var content = m.path("content");
                return content.isTextual() ? content.asText() : content.path(0).path("text").asText();
            }
        }
        return "";
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    /** A multipart/form-data body, parsed as OkHttp sends it. */
    record Multipart(Map<String, byte[]> parts, Map<String, String> filenames) {

        static Multipart parse(HttpExchange exchange) {
            try {
                var type = exchange.getRequestHeaders().getFirst("Content-Type");
                var boundary = "--" + type.substring(type.indexOf("boundary=") + "boundary=".length()).replace("\"", "");
                var body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.ISO_8859_1);
                var parts = new ConcurrentHashMap<String, byte[]>();
                var filenames = new ConcurrentHashMap<String, String>();
                for (var part : body.split(Pattern.quote(boundary))) {
                    int headerEnd = part.indexOf("\r\n\r\n");
                    if (headerEnd < 0) {
                        continue;
                    }
                    var headers = part.substring(0, headerEnd);
                    var content = part.substring(headerEnd + 4);
                    if (content.endsWith("\r\n")) {
                        content = content.substring(0, content.length() - 2);
                    }
                    var name = attribute(headers, "name");
                    if (name != null) {
                        parts.put(name, content.getBytes(StandardCharsets.ISO_8859_1));
                        var filename = attribute(headers, "filename");
                        if (filename != null) {
                            filenames.put(name, filename);
                        }
                    }
                }
                return new Multipart(parts, filenames);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        private static String attribute(String headers, String key) {
            var marker = " " + key + "=\"";
            int i = headers.indexOf(marker);
            if (i < 0) {
                marker = ";" + key + "=\"";
                i = headers.indexOf(marker);
            }
            if (i < 0) {
                return null;
            }
            int start = i + marker.length();
            return headers.substring(start, headers.indexOf('"', start));
        }

        String text(String name) {
            var b = parts.get(name);
            return b == null ? null : new String(b, StandardCharsets.UTF_8);
        }

        byte[] bytes(String name) {
            return parts.getOrDefault(name, new byte[0]);
        }

        String filename(String name) {
            return filenames.getOrDefault(name, "");
        }
    }
}
