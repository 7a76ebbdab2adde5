package dev.tandem.models.chat;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One provider SDK client, built for the API key in force and rebuilt when the key changes (a mounted Secret
 * rotated), the previous client then closed. The SDKs fix the key when a client is built, so a rotation needs a
 * new client; callers read the key per call and pass it here.
 *
 * @param <C> the SDK client type
 */
public final class KeyedSdkClient<C> {

    private final Function<String, C> build;
    private final Consumer<C> close;
    private final Object lock = new Object();
    private volatile C client;
    private volatile String clientKey;

    public KeyedSdkClient(Function<String, C> build, Consumer<C> close) {
        this.build = build;
        this.close = close;
    }

    /** The client for this key, built on first use or after a rotation. */
    public C forKey(String key) {
        var current = client;
        if (current != null && key.equals(clientKey)) {
            return current;
        }
        synchronized (lock) {
            if (client == null || !key.equals(clientKey)) {
                var previous = client;
                client = build.apply(key);
                clientKey = key;
                if (previous != null) {
                    close.accept(previous);
                }
            }
            return client;
        }
    }

    /** Closes the current client; a later call builds a new one. */
    public void close() {
        synchronized (lock) {
            if (client != null) {
                close.accept(client);
                client = null;
                clientKey = null;
            }
        }
    }
}
