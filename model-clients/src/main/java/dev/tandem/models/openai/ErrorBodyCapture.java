package dev.tandem.models.openai;

import com.openai.core.RequestOptions;
import com.openai.core.http.Headers;
import com.openai.core.http.HttpClient;
import com.openai.core.http.HttpRequest;
import com.openai.core.http.HttpResponse;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Wraps the SDK's HTTP client to keep the raw body of an error response for the calling thread. Written by hand
 * because the SDK only keeps the {@code error} member of an error body: servers that answer in another shape
 * (vLLM's top-level {@code message}, TGI's {@code error} string) would otherwise lose the provider's message,
 * which is exactly what an operator needs for a rejected request ("maximum context length is 4096 tokens").
 */
final class ErrorBodyCapture implements HttpClient {

    private static final int MAX_BYTES = 64 * 1024;
    private static final ThreadLocal<String> LAST = new ThreadLocal<>();

    private final HttpClient delegate;

    ErrorBodyCapture(HttpClient delegate) {
        this.delegate = delegate;
    }

    /** Forgets the previous error body of this thread; call before a request. */
    static void clear() {
        LAST.remove();
    }

    /** The raw body of this thread's last error response, if any. */
    static Optional<String> last() {
        return Optional.ofNullable(LAST.get());
    }

    @Override
    public HttpResponse execute(HttpRequest request, RequestOptions options) {
        return capture(delegate.execute(request, options));
    }

    @Override
    public CompletableFuture<HttpResponse> executeAsync(HttpRequest request, RequestOptions options) {
        return delegate.executeAsync(request, options).thenApply(ErrorBodyCapture::capture);
    }

    @Override
    public void close() {
        delegate.close();
    }

    private static HttpResponse capture(HttpResponse response) {
        if (response.statusCode() < 400) {
            return response;
        }
        byte[] bytes;
        try (InputStream in = response.body()) {
            bytes = in.readNBytes(MAX_BYTES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            response.close();
        }
        LAST.set(new String(bytes, StandardCharsets.UTF_8));
        return new HttpResponse() {
            @Override
            public int statusCode() {
                return response.statusCode();
            }

            @Override
            public Headers headers() {
                return response.headers();
            }

            @Override
            public InputStream body() {
                return new ByteArrayInputStream(bytes);
            }

            @Override
            public void close() {
                // already closed; the body is in memory
            }
        };
    }
}
