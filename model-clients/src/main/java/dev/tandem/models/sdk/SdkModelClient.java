package dev.tandem.models.sdk;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Function;

import dev.tandem.models.Endpoint;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.CancellableCalls;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.KeyedSdkClient;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ModelClient;

/**
 * What the clients over a provider's official SDK (OpenAI-compatible, Anthropic) share: the model's spec and
 * endpoint, the SDK client of the API key in force ({@link KeyedSdkClient}: rebuilt when a mounted key rotates),
 * built when the client is made so its first call does not pay for loading the HTTP and JSON stacks, every call run
 * cancellably within the caller's deadline ({@link CancellableCalls}) with timeouts cut to the time left, and SDK
 * calls of the batch APIs mapped to {@link ModelCallException}s as a chat call's are. A subclass says how its SDK
 * client is built, how a key is read, how a chat and a stream run, and how its provider's errors read.
 *
 * @param <C> the SDK client type
 */
public abstract class SdkModelClient<C> implements ModelClient {

    protected final ModelSpec spec;
    protected final Endpoint endpoint;
    private final KeyedSdkClient<C> client;

    /**
     * @param close how an SDK client is closed (after a key rotation, and by {@link #close()})
     */
    protected SdkModelClient(ModelSpec spec, Consumer<C> close) {
        this.spec = spec;
        this.endpoint = spec.endpoint().orElseThrow(() -> new IllegalArgumentException(
                "model " + spec.id() + " has no endpoint"));
        this.client = new KeyedSdkClient<>(this::build, close);
    }

    /**
     * Builds the SDK client now, at the end of a subclass's constructor: its first construction loads the HTTP and
     * JSON stacks (seconds on a busy node), which would otherwise be charged to the first step and could push a
     * failover past its deadline.
     */
    protected final void warmUp() {
        try {
            client(key());
        } catch (RuntimeException e) {
            // no usable key yet (a Secret not mounted): the first call reports it
        }
    }

    @Override
    public final String modelId() {
        return spec.id();
    }

    @Override
    public final ChatResponse chat(ChatRequest request) {
        return CancellableCalls.call(request.deadline(), spec.id(), () -> chatNow(request));
    }

    @Override
    public final ChatResponse stream(ChatRequest request, Consumer<String> onTextDelta) {
        return CancellableCalls.call(request.deadline(), spec.id(), () -> streamNow(request, onTextDelta));
    }

    /** One chat call, on the thread {@link CancellableCalls} runs it on. */
    protected abstract ChatResponse chatNow(ChatRequest request);

    /** One streamed chat call, on the thread {@link CancellableCalls} runs it on. */
    protected abstract ChatResponse streamNow(ChatRequest request, Consumer<String> onTextDelta);

    @Override
    public void close() {
        client.close();
    }

    /**
     * Runs {@code call} with the SDK client of the current key, provider failures mapped to
     * {@link ModelCallException}s as for a chat call (the batch API uses the same client, key and base URL).
     */
    public final <T> T withSdk(Function<C, T> call) {
        var key = key();
        beforeCall();
        try {
            return call.apply(client(key));
        } catch (ModelCallException e) {
            throw e;
        } catch (RuntimeException e) {
            throw failure(e, key);
        }
    }

    /** Called before each SDK call of {@link #withSdk} (nothing unless a subclass keeps per-call state). */
    protected void beforeCall() {
    }

    /** The SDK client of this key, built on first use or after a rotation. */
    protected final C client(String key) {
        return client.forKey(key);
    }

    /** The API key in force. */
    protected abstract String key();

    /** A new SDK client for this key: the endpoint's base URL and timeouts, the SDK's own retries off. */
    protected abstract C build(String key);

    /** A provider failure as a {@link ModelCallException}, {@code key} redacted from anything it quotes. */
    protected abstract ModelCallException failure(RuntimeException e, String key);

    /** This request's timeout: the configured one, cut to the time the caller has left (at least 1 ms). */
    protected final Duration requestTimeout(CallDeadline deadline) {
        return atLeastOneMilli(deadline.remainingAtMost(endpoint.requestTimeout()));
    }

    /** The connect timeout of a request that may take {@code request}: the configured one, at most that. */
    protected final Duration connectTimeout(Duration request) {
        return request.compareTo(endpoint.connectTimeout()) < 0 ? request : endpoint.connectTimeout();
    }

    /** OkHttp, under both SDKs, reads a zero timeout as none. */
    static Duration atLeastOneMilli(Duration d) {
        return d.compareTo(Duration.ofMillis(1)) < 0 ? Duration.ofMillis(1) : d;
    }
}
