package dev.tandem.models;

import dev.tandem.models.anthropic.AnthropicModelClient;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelCallException.Kind;
import dev.tandem.models.chat.ModelClient;
import dev.tandem.models.openai.OpenAiModelClient;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The caller's deadline and cancellation reach the HTTP call: against a server that holds every request open,
 * with the models' own timeout at ten minutes, the call ends only because the caller's deadline passed or the
 * caller cancelled, and the server sees its connection closed.
 */
class ModelCallDeadlineTests {

    private static final Duration CONFIGURED_TIMEOUT = Duration.ofMinutes(10);

    static ModelClient openai(HoldingServer server) {
        return new OpenAiModelClient(ModelSpec.openai("held-openai", endpoint(server.baseUrl() + "/v1"),
                Set.of("generation")));
    }

    static ModelClient anthropic(HoldingServer server) {
        return new AnthropicModelClient(ModelSpec.anthropic("held-claude", endpoint(server.baseUrl()),
                Set.of("generation")));
    }

    private static Endpoint endpoint(String baseUrl) {
        return new Endpoint(URI.create(baseUrl), "some-model", ApiKeySource.env("KEY", name -> "sk-test"),
                Duration.ofSeconds(5), CONFIGURED_TIMEOUT, Map.of(), Endpoint.StructuredOutput.PROMPT, false, null,
                Endpoint.MaxTokensField.MAX_TOKENS, 64);
    }

    private static ChatRequest request(CallDeadline deadline) {
        return ChatRequest.builder().user("Classify: I was charged twice.").deadline(deadline).build();
    }

    @Test
    void cancellingTheCallerAbortsTheOpenAiRequestInFlight() throws Exception {
        cancellationAbortsTheRequest(ModelCallDeadlineTests::openai, false);
    }

    @Test
    void cancellingTheCallerAbortsTheAnthropicRequestInFlight() throws Exception {
        cancellationAbortsTheRequest(ModelCallDeadlineTests::anthropic, false);
    }

    @Test
    void cancellationAlsoAbortsACallMadeOnAVirtualThread() throws Exception {
        cancellationAbortsTheRequest(ModelCallDeadlineTests::openai, true);
    }

    private static void cancellationAbortsTheRequest(Function<HoldingServer, ModelClient> clientOn, boolean virtual)
            throws Exception {
        try (var server = new HoldingServer(); var client = clientOn.apply(server);
             var threads = virtual ? Executors.newVirtualThreadPerTaskExecutor()
                     : Executors.newSingleThreadExecutor()) {
            var deadline = CallDeadline.cancellable();
            CompletableFuture<Object> call = CompletableFuture.supplyAsync(() -> client.chat(request(deadline)),
                    threads);
            assertThat(server.awaitRequest()).as("the request reached the server").isTrue();
            assertThat(call).isNotDone();

            deadline.cancel("the caller cancelled the step");

            var failure = catchThrowableOfType(ExecutionException.class, () -> call.get(60, java.util.concurrent.TimeUnit.SECONDS));
            assertThat(failure.getCause()).isInstanceOf(ModelCallException.class);
            assertThat(((ModelCallException) failure.getCause()).kind()).isEqualTo(Kind.CANCELLED);
            assertThat(failure.getCause()).hasMessageContaining("the caller cancelled the step");
            assertThat(server.awaitClosedByClient()).as("the server saw the connection closed").isTrue();
        }
    }

    @Test
    void theCallersDeadlineEndsTheRequestAndClosesTheConnection() throws Exception {
        for (Function<HoldingServer, ModelClient> clientOn : java.util.List.<Function<HoldingServer, ModelClient>>of(
                ModelCallDeadlineTests::openai, ModelCallDeadlineTests::anthropic)) {
            // the first request loads the HTTP stack; the deadline below should bound the request, not that
            cancellationAbortsTheRequest(clientOn, false);
            try (var server = new HoldingServer(); var client = clientOn.apply(server)) {
                var failure = catchThrowableOfType(ModelCallException.class,
                        () -> client.chat(request(CallDeadline.after(Duration.ofSeconds(2)))));

                assertThat(failure.kind()).isEqualTo(Kind.TIMEOUT);
                assertThat(failure).hasMessageContaining("the caller's deadline");
                assertThat(server.connections()).as("the request was sent").isEqualTo(1);
                assertThat(server.awaitClosedByClient()).as("the server saw the connection closed").isTrue();
            }
        }
    }

    @Test
    void theRequestTimeoutIsTheTimeTheCallerHasLeft() throws Exception {
        try (var server = new HoldingServer(); var client = (OpenAiModelClient) openai(server)) {
            var deadline = CallDeadline.after(Duration.ofSeconds(7));
            var timeout = client.options(deadline).getTimeout();

            assertThat(timeout.request()).isLessThanOrEqualTo(Duration.ofSeconds(7)).isGreaterThan(Duration.ZERO);
            assertThat(timeout.read()).isEqualTo(timeout.request());
            assertThat(client.options(CallDeadline.none()).getTimeout().request()).isEqualTo(CONFIGURED_TIMEOUT);
        }
    }

    @Test
    void aCallerThatAlreadyGaveUpSendsNoRequest() throws Exception {
        try (var server = new HoldingServer(); var client = openai(server)) {
            var cancelled = CallDeadline.cancellable();
            cancelled.cancel("gone");
            assertThat(catchThrowableOfType(ModelCallException.class, () -> client.chat(request(cancelled))).kind())
                    .isEqualTo(Kind.CANCELLED);

            var expired = CallDeadline.after(Duration.ZERO);
            assertThat(catchThrowableOfType(ModelCallException.class, () -> client.chat(request(expired))).kind())
                    .isEqualTo(Kind.TIMEOUT);
            assertThat(server.connections()).isZero();
        }
    }
}
