package dev.tandem.oracle.config;

import dev.tandem.models.registry.ModelRegistry;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import dev.tandem.models.catalog.ModelCatalog;
import dev.tandem.models.catalog.ModelSpecs;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * The oracle's own models, from the model catalog, checked at start: a bad entry, or a planner or synthesiser naming a model that is not
 * configured, stops the start naming the key.
 */
@ApplicationScoped
public class ModelRegistryProducer {

    private static final Logger LOG = Logger.getLogger(ModelRegistryProducer.class);

    @Produces
    @ApplicationScoped
    ModelRegistry modelRegistry(OracleModels models, OracleConfig config) {
        var catalog = ModelCatalog.forCallers(models.catalog(), models.models(), ConfigProvider.getConfig(), LOG::warn);
        var registry = ModelSpecs.registry(catalog.entries());
        registry.all().forEach(s -> LOG.info(ModelSpecs.describe(s)));
        config.planner().model().ifPresent(id -> requireChatModel(registry, id, "tandem.oracle.planner.model"));
        config.synthesizer().model().ifPresent(id -> requireChatModel(registry, id, "tandem.oracle.synthesizer.model"));
        return registry;
    }

    void close(@Disposes ModelRegistry registry) {
        registry.close();
    }

    private static void requireChatModel(ModelRegistry registry, String id, String key) {
        var spec = registry.find(id).orElseThrow(() -> new IllegalStateException(key + "=" + id
                + ": no such model in the model catalog (callable: " + registry.all().stream()
                .map(ModelSpec::id).toList() + ")"));
        if (spec.provider() == Provider.EMBEDDED) {
            throw new IllegalStateException(key + "=" + id + ": an embedded encoder cannot plan or write; name a "
                    + "chat model (openai, anthropic or replay)");
        }
    }
}
