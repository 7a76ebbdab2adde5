package dev.tandem.worker.config;

import dev.tandem.models.ModelRegistry;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;

/** Builds the shared {@link ModelRegistry} from {@code tandem.models.*}. */
@ApplicationScoped
public class ModelRegistryProducer {

    @Produces
    @ApplicationScoped
    ModelRegistry modelRegistry(TandemConfig config) {
        var specs = new ArrayList<ModelSpec>();
        config.models().forEach((id, model) -> {
            if (model.provider() == Provider.EMBEDDED && model.encoder().isEmpty()) {
                throw new IllegalStateException("tandem.models.\"" + id + "\".encoder is required for an embedded model");
            }
            specs.add(new ModelSpec(id, model.provider(), model.encoder().orElse(null), model.exemplarShare(),
                    model.baseUrl(), model.model(), model.apiKeyEnv(), new LinkedHashSet<>(model.capabilities())));
        });
        specs.sort(Comparator.comparing(ModelSpec::id));
        return new ModelRegistry(specs);
    }
}
