package dev.tandem.models;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in model server that reads each request and never answers, holding the connection open, like a model
 * still generating. It records when a request has arrived and when the client closed the connection.
 */
public final class HoldingServer implements AutoCloseable {

    private final ServerSocket socket;
    private final CountDownLatch received = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicInteger connections = new AtomicInteger();
    private volatile String requestHead = "";

    public HoldingServer() throws IOException {
        socket = new ServerSocket(0);
        Thread.ofPlatform().daemon().name("holding-server").start(this::accept);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + socket.getLocalPort();
    }

    /** Waits until a whole request head has arrived; false when none came within the bound. */
    public boolean awaitRequest() throws InterruptedException {
        return received.await(60, TimeUnit.SECONDS);
    }

    /** Waits until the client closed a connection that carried a request; false when it stayed open. */
    public boolean awaitClosedByClient() throws InterruptedException {
        return closed.await(60, TimeUnit.SECONDS);
    }

    public int connections() {
        return connections.get();
    }

    public String requestHead() {
        return requestHead;
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                var connection = socket.accept();
                connections.incrementAndGet();
                Thread.ofVirtual().start(() -> hold(connection));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void hold(Socket connection) {
        try (connection; InputStream in = connection.getInputStream()) {
            var head = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0) {
                head.append((char) b);
                if (head.toString().endsWith("\r\n\r\n")) {
                    break;
                }
            }
            if (b < 0) {
                return;
            }
            requestHead = head.toString();
            received.countDown();
            // the body, then nothing more: read until the client gives up and closes the connection
            byte[] buffer = new byte[8192];
            while (in.read(buffer) >= 0) {
                // discard
            }
            closed.countDown();
        } catch (IOException e) {
            // a reset is the client closing too
            closed.countDown();
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

}
