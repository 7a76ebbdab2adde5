package dev.tandem.router.bench;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import dev.tandem.router.budget.Budget;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.client.WorkerPools;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.BackendProfiles;
import dev.tandem.router.learning.LiveState;
import dev.tandem.router.learning.QualityBoard;
import dev.tandem.router.selection.RouteSelector;
import dev.tandem.router.selection.Selection;
import dev.tandem.router.selection.SelectionRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One routing decision of the default policy ({@link RouteSelector}) over a 50-model catalog on 5 pools (every
 * model on two pools: 100 backends), with the live state the router reads in production: {@link LiveState} over
 * real latency windows, pool counters and learned quality. The step asks for a capability, a residency tag, a
 * latency target and a budget, so every rule runs. Sample mode: JMH reports the p99 of single decisions.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
public class RouteSelectionBenchmark {

    private RouteSelector selector;
    private Catalog catalog;
    private LiveState live;
    private SelectionRequest request;

    @Setup
    public void setUp() {
        List<ModelProfile> models = new ArrayList<>();
        ModelTier[] tiers = ModelTier.values();
        for (int i = 0; i < 50; i++) {
            Set<String> caps = i % 5 == 4 ? Set.of("embedding") : Set.of("json_schema", "embedding");
            Set<String> residency = i % 2 == 0 ? Set.of("eu") : Set.of("us");
            Set<String> types = i % 5 < 2 ? Set.of("classify") : i % 5 < 4 ? Set.of("extract", "summarize")
                    : Set.of();
            double price = 0.05 * (1 + i);
            models.add(new ModelProfile("model-" + i, tiers[i % tiers.length], price, price * 3, price / 2, caps,
                    4096 << (i % 4), residency, types, 0.75 + (i % 10) / 50d));
        }
        List<WorkerPool> pools = new ArrayList<>();
        for (int p = 0; p < 5; p++) {
            List<String> served = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                if (i % 5 == p || (i + 1) % 5 == p) {
                    served.add("model-" + i);
                }
            }
            pools.add(new WorkerPool("pool-" + p, "localhost:" + (9000 + p), served, 16 + 8 * p, "a100", true,
                    p % 2 == 0 ? 1 : 2, p % 2 == 0 ? 0 : 0.0004));
        }
        catalog = new Catalog(models, pools, "model-3", Map.of("classify", 0.85), 0.8, Map.of("classify", 20L), 200,
                500, 4);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BackendProfiles profiles = new BackendProfiles(registry, 128, 5);
        for (Backend b : catalog.backendList()) {
            for (int k = 0; k < 128; k++) {
                profiles.recordSuccess(b, (long) ((40 + (b.key().hashCode() & 0xff) + k % 17) * 1_000_000L));
            }
        }
        QualityBoard board = new QualityBoard(20, 1.645, 500);
        for (int i = 0; i < 50; i += 2) {
            for (int k = 0; k < 100; k++) {
                board.record("classify", "model-" + i, k % 10 != 0);
            }
        }
        WorkerPools workerPools = new WorkerPools(new CatalogHolder(catalog), registry, config());
        live = new LiveState(profiles, workerPools, board);
        // the cost model reads every candidate's audit stream: trusted, in probation, or not yet seen (a third each)
        List<dev.tandem.proto.audit.v1.StreamStatus> streams = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            if (i % 3 == 2) {
                continue;
            }
            streams.add(dev.tandem.proto.audit.v1.StreamStatus.newBuilder().setWorkerBackend("model-" + i)
                    .setWorkerType("classify").setState(i % 3 == 0 ? dev.tandem.proto.audit.v1.TrustState.TRUST_STATE_NORMAL
                            : dev.tandem.proto.audit.v1.TrustState.TRUST_STATE_PROBATION)
                    .setReviewed(200).setRejected(10).setErrorRate(0.05).setReviewProbability(0.1)
                    .setBlockingProbability(0.05).setProjectedReviewProbability(0.08).setTargetErrorRate(0.01)
                    .build());
        }
        live.outlooks().replaceAll(streams);
        selector = new RouteSelector();
        request = new SelectionRequest("classify", List.of("json_schema"), 8000, ModelTier.SMALL, 400,
                List.of("eu"), List.of(Budget.task(0.05)), new HashSet<>(Set.of("model-7")), 900, "", 0);
        Selection check = selector.select(request, catalog, live);
        if (!check.chosen()) {
            throw new IllegalStateException("benchmark setup selects nothing: " + check.explanation());
        }
    }

    private static RouterConfig config() {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(RouterConfig.class)
                .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .build();
        return config.getConfigMapping(RouterConfig.class);
    }

    @Benchmark
    public Selection decide() {
        return selector.select(request, catalog, live);
    }
}
