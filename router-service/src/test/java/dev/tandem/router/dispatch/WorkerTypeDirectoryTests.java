package dev.tandem.router.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tandem.fakes.FakeWorker;
import dev.tandem.proto.worker.v1.WorkerTypeInfo;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.client.WorkerPools;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.config.RouterConfig;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

/**
 * A pool whose endpoint no name resolver reads (a typo in a catalog change: "dsn:///..."): its channel cannot even be
 * built. It used to throw out of the listing, so every Dispatch (which asks for the worker type's required
 * capabilities) and ListWorkerTypes failed INTERNAL while healthy pools stood by.
 */
class WorkerTypeDirectoryTests {

    private static final ModelProfile MODEL = new ModelProfile("m", ModelTier.SMALL, 0.1, 0.1, 0.05, Set.of(),
            8192, Set.of(), Set.of("classify"), 0.9);

    @Test
    void aPoolWhoseChannelCannotBeBuiltIsSkippedLikeAPoolThatFails() throws Exception {
        Server healthy = ServerBuilder.forPort(0).addService(new FakeWorker(FakeWorker.Mode.STEADY)).build().start();
        try {
            WorkerTypeDirectory directory = directory(List.of(
                    new WorkerPool("a-typo", "no-such-scheme:///worker-pool:8082", List.of("m"), 4, "", true),
                    new WorkerPool("b-healthy", "localhost:" + healthy.getPort(), List.of("m"), 4, "", true)));

            assertThat(directory.workerTypes(null)).extracting(WorkerTypeInfo::getName).contains("classify");
        } finally {
            healthy.shutdownNow();
        }
    }

    @Test
    void whenNoPoolCanListTheDispatchGoesOnWithTheCallersOwnRequirements() {
        WorkerTypeDirectory directory = directory(List.of(
                new WorkerPool("a-typo", "no-such-scheme:///worker-pool:8082", List.of("m"), 4, "", true)));

        assertThatThrownBy(() -> directory.workerTypes(null)).isInstanceOfSatisfying(RoutingFailedException.class,
                e -> assertThat(e.getMessage()).contains("a-typo"));
        assertThat(directory.requiredCapabilities("classify", null)).isEmpty();
    }

    private static WorkerTypeDirectory directory(List<WorkerPool> pools) {
        Catalog catalog = new Catalog(List.of(MODEL), pools, "m", Map.of(), 0.8, Map.of(), 200, 500, 4);
        RouterConfig config = new SmallRyeConfigBuilder().withMapping(RouterConfig.class)
                .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .build().getConfigMapping(RouterConfig.class);
        CatalogHolder holder = new CatalogHolder(catalog);
        return new WorkerTypeDirectory(holder, new WorkerPools(holder, new SimpleMeterRegistry(), config), config);
    }
}
