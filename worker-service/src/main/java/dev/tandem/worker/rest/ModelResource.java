package dev.tandem.worker.rest;

import dev.tandem.models.ModelRegistry;
import dev.tandem.models.ModelSpec;
import dev.tandem.worker.service.StepModels;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.List;
import java.util.Set;

/** Admin view of the models this worker can run. */
@Path("/api/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {

    @Inject
    ModelRegistry registry;
    @Inject
    StepModels stepModels;

    /** A configured model; {@code available} is false when its provider is not in this build. */
    public record ModelView(String id, String provider, String encoder, double exemplarShare, String baseUrl,
                            String model, String apiKeyEnv, Set<String> capabilities, boolean available) {
    }

    @GET
    public List<ModelView> list() {
        return registry.all().stream().map(this::view).toList();
    }

    private ModelView view(ModelSpec m) {
        return new ModelView(m.id(), m.provider().name().toLowerCase(), m.encoder(), m.exemplarShare(),
                m.baseUrl().orElse(null), m.providerModel().orElse(null), m.apiKeyEnv().orElse(null),
                m.capabilities(), stepModels.forModel(m).isPresent());
    }
}
