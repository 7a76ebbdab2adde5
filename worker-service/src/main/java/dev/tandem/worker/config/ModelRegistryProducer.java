package dev.tandem.worker.config;

import dev.tandem.models.batch.BatchCoordinator;
import dev.tandem.models.batch.BatchSettings;
import dev.tandem.models.registry.ModelRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import dev.tandem.models.catalog.ModelCatalog;
import dev.tandem.models.catalog.ModelSpecs;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Builds the shared {@link ModelRegistry} from the model catalog ({@code tandem.catalog.*}, the catalog directory,
 * and the deprecated {@code tandem.models.*}); a bad entry stops the start naming its key.
 */
@ApplicationScoped
public class ModelRegistryProducer {

    private static final Logger LOG = Logger.getLogger(ModelRegistryProducer.class);

    @Produces
    @ApplicationScoped
    ModelRegistry modelRegistry(TandemConfig config, MeterRegistry meters) {
        var catalog = ModelCatalog.forCallers(config.catalog(), config.models(), ConfigProvider.getConfig(), LOG::warn);
        if (!catalog.notCallable().isEmpty()) {
            LOG.infof("catalog models without a provider, not callable here: %s", catalog.notCallable());
        }
        var specs = ModelSpecs.registry(catalog.entries()).all();
        var batch = config.worker().batch();
        var registry = new ModelRegistry(specs, new BatchCoordinator(new BatchSettings(batch.maxItems(),
                batch.maxWait(), batch.pollInterval(), batch.retryLimit()), new BatchMetrics(meters)));
        registry.all().forEach(s -> LOG.info(ModelSpecs.describe(s)
                + (s.batch() ? (registry.batchesThroughProvider(s) ? "; batch path: the provider's batch API"
                : "; batch path: runs at once at its batch prices") : "")));
        return registry;
    }

    void close(@Disposes ModelRegistry registry) {
        registry.close();
    }
}
