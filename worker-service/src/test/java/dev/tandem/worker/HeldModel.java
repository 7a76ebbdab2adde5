package dev.tandem.worker;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A model server that reads every request and never answers (a model still generating), configured as the
 * OpenAI-compatible model {@code held-vllm} with a ten-minute request timeout: a call to it ends only when the
 * worker ends it. Each connection reports when its request arrived and when the worker closed it.
 */
public class HeldModel implements QuarkusTestResourceLifecycleManager {

    static final String MODEL = "held-vllm";
    private static ServerSocket socket;
    private static final LinkedBlockingQueue<Connection> CONNECTIONS = new LinkedBlockingQueue<>();

    /** One held request. */
    static final class Connection {
        final CountDownLatch received = new CountDownLatch(1);
        final CountDownLatch closed = new CountDownLatch(1);

        /** Whether the worker closed the connection; the bound is far below the model's own timeout. */
        boolean closedByWorker() throws InterruptedException {
            return closed.await(20, TimeUnit.SECONDS);
        }
    }

    /** The next request to arrive (waits for it). */
    static Connection nextRequest() throws InterruptedException {
        var connection = CONNECTIONS.poll(60, TimeUnit.SECONDS);
        if (connection == null) {
            throw new AssertionError("no request reached the held model");
        }
        connection.received.await();
        return connection;
    }

    static void forgetEarlierRequests() {
        CONNECTIONS.clear();
    }

    @Override
    public Map<String, String> start() {
        try {
            socket = new ServerSocket(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread.ofPlatform().daemon().name("held-model").start(() -> {
            while (!socket.isClosed()) {
                try {
                    var accepted = socket.accept();
                    var connection = new Connection();
                    Thread.ofVirtual().start(() -> hold(accepted, connection));
                } catch (IOException e) {
                    return;
                }
            }
        });
        var prefix = "tandem.catalog.models.\"" + MODEL + "\".";
        return Map.of(prefix + "provider", "openai",
                prefix + "base-url", "http://127.0.0.1:" + socket.getLocalPort() + "/v1",
                prefix + "model", "held",
                prefix + "capabilities", "generation,json_schema",
                prefix + "request-timeout", "10m");
    }

    private static void hold(Socket accepted, Connection connection) {
        try (accepted; InputStream in = accepted.getInputStream()) {
            var head = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0) {
                head.append((char) b);
                if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                    break;
                }
            }
            if (b < 0) {
                return;
            }
            CONNECTIONS.add(connection);
            connection.received.countDown();
            byte[] buffer = new byte[8192];
            while (in.read(buffer) >= 0) {
                // the body, then nothing: wait for the worker to close
            }
        } catch (IOException e) {
            // a reset is a close too
        } finally {
            connection.closed.countDown();
        }
    }

    @Override
    public void stop() {
        try {
            if (socket != null) {
                socket.close();
            }
        } catch (IOException ignored) {
            // the test run is over
        }
    }
}
