package dev.tandem.worker.config;

import dev.tandem.models.ModelRegistry;
import dev.tandem.models.config.ModelSpecs;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import org.jboss.logging.Logger;

/** Builds the shared {@link ModelRegistry} from {@code tandem.models.*}; a bad entry stops the start naming its key. */
@ApplicationScoped
public class ModelRegistryProducer {

    private static final Logger LOG = Logger.getLogger(ModelRegistryProducer.class);

    @Produces
    @ApplicationScoped
    ModelRegistry modelRegistry(TandemConfig config) {
        var registry = ModelSpecs.registry(config.models());
        registry.all().forEach(s -> LOG.info(ModelSpecs.describe(s)));
        return registry;
    }

    void close(@Disposes ModelRegistry registry) {
        registry.close();
    }
}
