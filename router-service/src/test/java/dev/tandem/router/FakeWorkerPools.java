package dev.tandem.router;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Starts one real gRPC WorkerService fake per test pool on an ephemeral port (grpc-java servers, so each pool has
 * its own address and behaviour) and points the router's catalog at them.
 * <ul>
 *   <li>{@code local}: steady; serves the embedded models and the "steady" fallback model of each scenario</li>
 *   <li>{@code flaky}: always UNAVAILABLE, cheapest for worker type {@code failover-test}</li>
 *   <li>{@code broken}: always UNAVAILABLE, cheapest for {@code circuit-test}</li>
 *   <li>{@code picky}: rejects every step as INVALID_ARGUMENT, cheapest for {@code invalid-test}</li>
 *   <li>{@code tiny}: capacity 1, holds steps until released, the only pool for {@code full-test}</li>
 * </ul>
 */
public class FakeWorkerPools implements QuarkusTestResourceLifecycleManager {

    private final List<Server> servers = new ArrayList<>();

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>();
        pool(config, "local", FakeWorker.Mode.STEADY, 32,
                "embedded-minilm,embedded-bge-oracle,fo-steady,cb-steady,inv-steady");
        pool(config, "flaky", FakeWorker.Mode.UNAVAILABLE, 8, "fo-cheap");
        pool(config, "broken", FakeWorker.Mode.UNAVAILABLE, 8, "cb-cheap");
        pool(config, "picky", FakeWorker.Mode.INVALID, 8, "inv-cheap");
        pool(config, "tiny", FakeWorker.Mode.HOLD, 1, "full-model");

        String standard = "classify,extract,summarize,validate";
        config.put("tandem.router.models.\"embedded-minilm\".worker-types", standard);
        config.put("tandem.router.models.\"embedded-bge-oracle\".worker-types", standard);
        model(config, "fo-cheap", "failover-test", 0.001);
        model(config, "fo-steady", "failover-test", 0.01);
        model(config, "cb-cheap", "circuit-test", 0.001);
        model(config, "cb-steady", "circuit-test", 0.01);
        model(config, "inv-cheap", "invalid-test", 0.001);
        model(config, "inv-steady", "invalid-test", 0.01);
        model(config, "full-model", "full-test", 0.001);
        config.put("tandem.router.circuit-breaker.delay", "10m");
        return config;
    }

    private static void model(Map<String, String> config, String id, String workerType, double price) {
        String prefix = "tandem.router.models.\"" + id + "\".";
        config.put(prefix + "tier", "SMALL");
        config.put(prefix + "input-usd-per-mtok", String.valueOf(price));
        config.put(prefix + "output-usd-per-mtok", String.valueOf(price));
        config.put(prefix + "worker-types", workerType);
        config.put(prefix + "prior-quality", "0.9");
    }

    private void pool(Map<String, String> config, String id, FakeWorker.Mode mode, int capacity, String models) {
        try {
            Server server = ServerBuilder.forPort(0).addService(new FakeWorker(mode)).build().start();
            servers.add(server);
            config.put("tandem.router.pools." + id + ".endpoint", "localhost:" + server.getPort());
            config.put("tandem.router.pools." + id + ".capacity", String.valueOf(capacity));
            config.put("tandem.router.pools." + id + ".models", models);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        for (Server server : servers) {
            server.shutdownNow();
        }
    }
}
