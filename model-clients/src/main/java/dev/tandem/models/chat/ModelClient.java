package dev.tandem.models.chat;

import java.util.function.Consumer;

/**
 * A chat model behind one provider: OpenAI-compatible Chat Completions, Anthropic Messages or replayed recordings.
 * Implementations are thread-safe and do not retry: retries and failover belong to the router, which sees every
 * backend. Every failure is a {@link ModelCallException} with a kind the caller can act on.
 */
public interface ModelClient extends AutoCloseable {

    /** The catalog id of the model. */
    String modelId();

    /** Whether the model can take calls (key present, dataset readable, ...); cheap, no network call. */
    Availability availability();

    /**
     * One call.
     *
     * @throws ModelCallException on any failure
     */
    ChatResponse chat(ChatRequest request);

    /**
     * One call with the answer streamed: {@code onTextDelta} receives text as it arrives (on the calling thread),
     * the returned response has the whole text, the usage and the finish reason.
     *
     * @throws ModelCallException on any failure, also after some deltas were delivered
     */
    ChatResponse stream(ChatRequest request, Consumer<String> onTextDelta);

    /** Releases connections. */
    @Override
    void close();
}
