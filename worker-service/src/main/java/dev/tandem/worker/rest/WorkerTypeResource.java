package dev.tandem.worker.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.worker.service.WorkerType;
import dev.tandem.worker.service.WorkerTypeCatalog;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.List;

/** Admin view of the loaded worker types. */
@Path("/api/worker-types")
@Produces(MediaType.APPLICATION_JSON)
public class WorkerTypeResource {

    private final WorkerTypeCatalog catalog;

    public WorkerTypeResource(WorkerTypeCatalog catalog) {
        this.catalog = catalog;
    }

    /** A worker type in the list: what it does and what it needs, without its label data. */
    public record WorkerTypeSummary(String name, String kind, String description, List<String> requiredInputs,
                                    List<String> optionalInputs, List<String> requiredCapabilities,
                                    String confidenceMethod, List<String> gates, JsonNode outputSchema,
                                    String source) {
    }

    @GET
    public List<WorkerTypeSummary> list() {
        return catalog.all().stream().map(t -> summary(t.definition(), t.source())).toList();
    }

    /** The full definition, including taxonomies, field patterns and prompt template. */
    @GET
    @Path("/{name}")
    public WorkerType get(@PathParam("name") String name) {
        return catalog.find(name).map(WorkerTypeCatalog.LoadedType::definition)
                .orElseThrow(() -> new NotFoundException("unknown worker type '" + name + "'"));
    }

    private static WorkerTypeSummary summary(WorkerType t, String source) {
        return new WorkerTypeSummary(t.name(), t.kind(), t.description(), t.requiredInputs(), t.optionalInputs(),
                t.requiredCapabilities(), t.confidenceMethod(), t.gates(), t.outputSchema(), source);
    }
}
