package dev.tandem.models.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * The common part of the wire-faithful fakes of the providers' batch APIs: a JDK HTTP server on a free port, JSON in
 * and out, a script that decides each request's fate by its {@code custom_id}'s user message, and a record of what
 * was asked. Public, with {@link FakeOpenAiBatches}, for system-tests' worker restart suite (this module's test-jar).
 */
public abstract class FakeBatchServer implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    /** What the fake does with one request of a batch. */
    public sealed interface Fate {
        /** Answers with this text. */
        public record Answer(String text) implements Fate {
        }

        /** Fails with this HTTP status (OpenAI) or error type (Anthropic) and message. */
        public record Error(int status, String type, String message) implements Fate {
        }

        /** Does not run before the batch's window ends. */
        public record Expire() implements Fate {
        }
    }

    final HttpServer server;
    /** Decides each request's fate from its user message and how many times that message was submitted. */
    public volatile Script script = (message, submission) -> new Fate.Answer("echo: " + message);
    /** Polls a batch answers "in progress" before it ends. */
    public volatile int pollsBeforeEnd = 1;
    public final List<List<String>> submittedMessages = new CopyOnWriteArrayList<>();
    /** The custom_ids of each submitted batch, in order. */
    public final List<List<String>> submittedCustomIds = new CopyOnWriteArrayList<>();
    public final List<String> cancelled = new CopyOnWriteArrayList<>();
    public final List<String> requestLines = new CopyOnWriteArrayList<>();

    /** A request's fate, from its user message and its submission number (1 for the first). */
    @FunctionalInterface
    public interface Script {
        Fate fate(String userMessage, int submission);
    }

    FakeBatchServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** How many times the message was submitted so far, this submission included. */
    int submissions(String message) {
        int n = 0;
        for (var batch : submittedMessages) {
            for (var m : batch) {
                if (m.equals(message)) {
                    n++;
                }
            }
        }
        return n;
    }

    void route(String prefix, Function<HttpExchange, Reply> handler) {
        server.createContext(prefix, exchange -> {
            try (exchange) {
                requestLines.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
                Reply reply;
                try {
                    reply = handler.apply(exchange);
                } catch (RuntimeException e) {
                    reply = new Reply(500, "application/json", "{\"error\":{\"message\":\"" + e + "\"}}");
                }
                byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", reply.contentType());
                exchange.sendResponseHeaders(reply.status(), body.length == 0 ? -1 : body.length);
                if (body.length > 0) {
                    exchange.getResponseBody().write(body);
                }
            }
        });
    }

    record Reply(int status, String contentType, String body) {
        static Reply json(Object node) {
            return new Reply(200, "application/json", node.toString());
        }

        static Reply notFound(String what) {
            return new Reply(404, "application/json", "{\"error\":{\"type\":\"not_found_error\",\"message\":\""
                    + what + " not found\"}}");
        }
    }

    static JsonNode readJson(HttpExchange exchange) {
        try {
            return JSON.readTree(exchange.getRequestBody());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    void start() {
        server.start();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
