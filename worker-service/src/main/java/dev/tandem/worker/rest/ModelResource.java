package dev.tandem.worker.rest;

import dev.tandem.models.registry.ModelRegistry;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import dev.tandem.worker.service.StepModels;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Admin view of the models this worker can run. Shows where keys come from, never a key. */
@Path("/api/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {

    private final ModelRegistry registry;
    private final StepModels stepModels;

    public ModelResource(ModelRegistry registry, StepModels stepModels) {
        this.registry = registry;
        this.stepModels = stepModels;
    }

    /**
     * A configured model; {@code available} is false when its provider is not in this build or it cannot take
     * calls now ({@code availability} says why: key not set, dataset missing).
     */
    public record ModelView(String id, String provider, String encoder, double exemplarShare, String baseUrl,
                            String model, String apiKey, String structuredOutput, String replayDataset,
                            String replayColumn, Set<String> capabilities, boolean available, String availability) {
    }

    @GET
    public List<ModelView> list() {
        return registry.all().stream().map(this::view).toList();
    }

    private ModelView view(ModelSpec m) {
        boolean inBuild = stepModels.forModel(m).isPresent();
        boolean available = inBuild;
        String detail = inBuild ? "embedded encoder " + m.encoder() : "provider not in this build";
        if (inBuild && m.provider() != Provider.EMBEDDED) {
            var availability = registry.client(m).availability();
            available = availability.available();
            detail = availability.detail();
        }
        var endpoint = m.endpoint();
        return new ModelView(m.id(), m.provider().name().toLowerCase(), m.encoder(), m.exemplarShare(),
                endpoint.map(e -> e.baseUrl().toString()).orElse(null),
                endpoint.map(e -> e.providerModel()).orElse(null),
                endpoint.map(e -> e.apiKey().describe()).orElse(null),
                endpoint.map(e -> e.structuredOutput().name().toLowerCase().replace('_', '-')).orElse(null),
                m.replay().map(r -> r.dataset().toString()).orElse(null),
                m.replay().map(r -> r.responseColumn()).orElse(null),
                new TreeSet<>(m.capabilities()), available, detail);
    }
}
