package dev.tandem.router;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.tandem.fakes.FakeAudit;
import dev.tandem.fakes.FakeAuditState;
import dev.tandem.fakes.FakeWorker;
import dev.tandem.proto.audit.v1.Calibration;
import dev.tandem.proto.audit.v1.CalibrationKnot;
import dev.tandem.proto.audit.v1.CalibrationMethod;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.TrustState;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Starts one real gRPC WorkerService fake per test pool on an ephemeral port (grpc-java servers, so each pool has
 * its own address and behaviour), a fake audit service, and points the router's catalog at them. Each scenario has
 * its own worker type and models, so tests do not share learned state.
 * <ul>
 *   <li>{@code local}: steady; serves the embedded models and most scenario models (behaviour scripted by the
 *       model id, see {@link FakeWorker})</li>
 *   <li>{@code flaky}: always UNAVAILABLE, cheapest for worker type {@code failover-test}</li>
 *   <li>{@code broken}: always UNAVAILABLE, cheapest for {@code circuit-test}</li>
 *   <li>{@code picky}: rejects every step as INVALID_ARGUMENT, cheapest for {@code invalid-test}</li>
 *   <li>{@code tiny}: capacity 1, holds steps until released, the only pool for {@code full-test}</li>
 * </ul>
 */
public class FakeWorkerPools implements QuarkusTestResourceLifecycleManager {

    /** Caller-error codes a worker may answer; each has worker type {@code reject-<code>}. */
    public static final List<String> CALLER_ERRORS = List.of("invalid_argument", "failed_precondition", "not_found",
            "unauthenticated", "permission_denied");

    private final List<Server> servers = new ArrayList<>();
    private Path catalogDir;

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>();
        List<String> local = new ArrayList<>(List.of("embedded-minilm", "embedded-bge-oracle", "fo-steady",
                "cb-steady", "inv-steady"));
        String standard = "classify,extract,summarize,validate";
        config.put("tandem.catalog.models.\"embedded-minilm\".worker-types", standard);
        config.put("tandem.catalog.models.\"embedded-bge-oracle\".worker-types", standard);
        model(config, "fo-cheap", "failover-test", 0.001);
        model(config, "fo-steady", "failover-test", 0.01);
        model(config, "cb-cheap", "circuit-test", 0.001);
        model(config, "cb-steady", "circuit-test", 0.01);
        model(config, "inv-cheap", "invalid-test", 0.001);
        model(config, "inv-steady", "invalid-test", 0.01);
        model(config, "full-model", "full-test", 0.001);

        local.add(model(config, "dl-cheap-deadline", "deadline-test", 0.001));
        local.add(model(config, "dl-steady", "deadline-test", 0.01));
        local.add(model(config, "rl-cheap-ratelimited", "ratelimit-test", 0.001));
        local.add(model(config, "rl-steady", "ratelimit-test", 0.01));
        local.add(model(config, "rt-flaky-once", "retry-test", 0.001));
        local.add(model(config, "rt-steady", "retry-test", 0.01));
        for (String code : CALLER_ERRORS) {
            local.add(model(config, "rj-" + code + "-status-" + code, "reject-" + code, 0.001));
            local.add(model(config, "rj-" + code + "-steady", "reject-" + code, 0.01));
        }
        local.add(tiered(config, "cs-small-lowconf", "cascade-test", "SMALL", 1));
        local.add(tiered(config, "cs-medium-invalid-output", "cascade-test", "MEDIUM", 10));
        local.add(tiered(config, "cs-large", "cascade-test", "LARGE", 100));
        local.add(tiered(config, "rc-model-billed", "billed-test", "SMALL", 1));
        local.add(tiered(config, "cal-small", "calib-test", "SMALL", 1));
        local.add(tiered(config, "cal-large", "calib-test", "LARGE", 100));
        local.add(tiered(config, "bd-cheap", "budget-test", "SMALL", 1));
        config.put("tandem.catalog.models.\"bd-cheap\".prior-quality", "0.5");
        local.add(tiered(config, "bd-good", "budget-test", "LARGE", 100));
        local.add(tiered(config, "tn-model", "tenant-test", "SMALL", 10));
        local.add(tiered(config, "hg-primary-slow", "hedge-test", "SMALL", 1));
        local.add(tiered(config, "hg-backup", "hedge-test", "SMALL", 2));
        local.add(tiered(config, "hc-primary-hang", "hedge-cancel-test", "SMALL", 1));
        local.add(tiered(config, "hc-backup-hang", "hedge-cancel-test", "SMALL", 2));
        local.add(tiered(config, "pol-cheap", "policy-test", "SMALL", 1));
        config.put("tandem.catalog.models.\"pol-cheap\".prior-quality", "0.85");
        local.add(tiered(config, "pol-good", "policy-test", "LARGE", 10));
        config.put("tandem.catalog.models.\"pol-good\".prior-quality", "0.95");
        local.add(model(config, "hb-switch", "breaker-test", 0.001));
        local.add(model(config, "hb-steady", "breaker-test", 0.01));
        local.add(tiered(config, "pk-weak", "predict-test", "SMALL", 1));
        local.add(tiered(config, "pk-strong", "predict-test", "LARGE", 100));
        local.add(tiered(config, "pk-oracle", "predict-test", "ORACLE", 1000));
        config.put("tandem.catalog.models.\"pk-weak\".prior-quality", "0.6");
        local.add(model(config, "kc-slow", "keyed-test", 0.001));
        local.add(model(config, "kc-fast", "keyed-fast-test", 0.001));

        String localEndpoint = pool(config, "local", FakeWorker.Mode.STEADY, 32, String.join(",", local));
        pool(config, "flaky", FakeWorker.Mode.UNAVAILABLE, 8, "fo-cheap");
        pool(config, "broken", FakeWorker.Mode.UNAVAILABLE, 8, "cb-cheap");
        pool(config, "picky", FakeWorker.Mode.INVALID, 8, "inv-cheap");
        pool(config, "tiny", FakeWorker.Mode.HOLD, 1, "full-model");
        replicas(config, "replicas", model(config, "rh-model", "replicas-test", 0.001));
        config.put("tandem.router.pools.tiny.gpus", "2");
        config.put("tandem.router.pools.tiny.usd-per-gpu-second", "0.001");
        config.put("test.local-endpoint", localEndpoint);

        try {
            Server audit = ServerBuilder.forPort(0).addService(new FakeAudit(auditStreams())).build().start();
            servers.add(audit);
            config.put("quarkus.grpc.clients.audit.host", "localhost");
            config.put("quarkus.grpc.clients.audit.port", String.valueOf(audit.getPort()));
            // in test mode Quarkus gRPC clients use test-port
            config.put("quarkus.grpc.clients.audit.test-port", String.valueOf(audit.getPort()));
            catalogDir = Files.createTempDirectory("tandem-catalog");
            config.put("tandem.catalog.dir", catalogDir.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        config.put("tandem.router.circuit-breaker.delay", "10m");
        config.put("tandem.router.exploration.rate", "0");
        // the selection rules under test here, not the exploration budget (ExplorationBudgetTests, TrustEarningTests)
        config.put("tandem.router.exploration-budget.share", "1.0");
        config.put("tandem.router.retry.delay", "10ms");
        config.put("tandem.router.retry.jitter", "5ms");
        config.put("tandem.router.cascade.confidence-threshold.\"cascade-test\"", "0.5");
        config.put("tandem.router.cascade.confidence-threshold.\"calib-test\"", "0.5");
        config.put("tandem.router.tenants.acme.budget-usd", "0.003");
        config.put("tandem.router.tenants.acme.window", "1h");
        config.put("tandem.router.hedging.tiers", "SMALL");
        config.put("tandem.router.hedging.default-delay", "100ms");
        config.put("tandem.router.prediction.worker-types", "predict-test");
        config.put("tandem.router.prediction.min-outcomes", "6");
        config.put("tandem.router.prediction.k", "3");
        config.put("tandem.router.prediction.shrinkage", "1");
        config.put("tandem.router.quality-target.\"predict-test\"", "0.7");
        return config;
    }

    private static String model(Map<String, String> config, String id, String workerType, double price) {
        String prefix = "tandem.catalog.models.\"" + id + "\".";
        config.put(prefix + "tier", "SMALL");
        config.put(prefix + "input-usd-per-mtok", String.valueOf(price));
        config.put(prefix + "output-usd-per-mtok", String.valueOf(price));
        config.put(prefix + "worker-types", workerType);
        config.put(prefix + "prior-quality", "0.9");
        return id;
    }

    private static String tiered(Map<String, String> config, String id, String workerType, String tier,
                                 double price) {
        model(config, id, workerType, price);
        config.put("tandem.catalog.models.\"" + id + "\".tier", tier);
        return id;
    }

    private String pool(Map<String, String> config, String id, FakeWorker.Mode mode, int capacity, String models) {
        try {
            Server server = ServerBuilder.forPort(0).addService(new FakeWorker(mode)).build().start();
            servers.add(server);
            String endpoint = "localhost:" + server.getPort();
            config.put("tandem.router.pools." + id + ".endpoint", endpoint);
            config.put("tandem.router.pools." + id + ".capacity", String.valueOf(capacity));
            // the models name the pool (their catalog entry's pools), not the pool its models
            for (String model : models.split(",")) {
                config.merge("tandem.catalog.models.\"" + model + "\".pools", id, (a, b) -> a + "," + b);
            }
            return endpoint;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A pool of two worker replicas, {@code r1} and {@code r2} (named in their outputs), behind one target that
     * resolves to both ({@link AddressListResolverProvider}), as a headless Service resolves to its pods.
     */
    private void replicas(Map<String, String> config, String id, String model) {
        try {
            List<String> addresses = new ArrayList<>();
            for (String replica : List.of("r1", "r2")) {
                Server server = ServerBuilder.forPort(0).addService(new FakeWorker(FakeWorker.Mode.STEADY, replica))
                        .build().start();
                servers.add(server);
                addresses.add("127.0.0.1:" + server.getPort());
            }
            config.put("tandem.router.pools." + id + ".endpoint", AddressListResolverProvider.SCHEME + ":///"
                    + String.join(",", addresses));
            config.put("tandem.router.pools." + id + ".capacity", "32");
            config.put("tandem.catalog.models.\"" + model + "\".pools", id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        for (Server server : servers) {
            server.shutdownNow();
        }
        if (catalogDir != null) {
            try (var files = Files.list(catalogDir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
                Files.deleteIfExists(catalogDir);
            } catch (IOException ignored) {
                // a temporary directory left behind is harmless
            }
        }
    }

    /**
     * The audit service as the router sees it (ListStreams): one stream whose calibration says that model
     * {@code cal-small} is overconfident on worker type {@code calib-test} (raw 0.9 is right only 30 % of the time),
     * and trusted streams (2 % of outputs reviewed, no verdicts counted) for the cheap models the routing tests expect
     * to be chosen on price: {@code embedded-minilm} on {@code classify}, {@code pk-weak} and {@code pk-strong} on
     * {@code predict-test}.
     */
    static FakeAuditState auditStreams() {
        Calibration overconfident = Calibration.newBuilder()
                .setMethod(CalibrationMethod.CALIBRATION_METHOD_ISOTONIC)
                .setSamples(250)
                .addKnots(CalibrationKnot.newBuilder().setRaw(0.5).setCalibrated(0.1))
                .addKnots(CalibrationKnot.newBuilder().setRaw(1.0).setCalibrated(0.5))
                .build();
        FakeAuditState state = new FakeAuditState();
        state.streams.add(StreamStatus.newBuilder().setWorkerBackend("cal-small").setWorkerType("calib-test")
                .setState(TrustState.TRUST_STATE_NORMAL).setDecided(300).setReviewed(250).setRejected(2)
                .setCalibration(overconfident).build());
        state.streams.add(trusted("embedded-minilm", "classify"));
        state.streams.add(trusted("pk-weak", "predict-test"));
        state.streams.add(trusted("pk-strong", "predict-test"));
        return state;
    }

    private static StreamStatus trusted(String model, String workerType) {
        return StreamStatus.newBuilder().setWorkerBackend(model).setWorkerType(workerType)
                .setState(TrustState.TRUST_STATE_NORMAL).setDecided(1000).setReviewProbability(0.02)
                .setBlockingProbability(0).setProjectedReviewProbability(0.02).setTargetErrorRate(0.01).build();
    }
}
