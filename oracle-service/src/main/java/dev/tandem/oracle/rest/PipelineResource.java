package dev.tandem.oracle.rest;

import dev.tandem.oracle.mapping.PipelineDefinition;
import dev.tandem.oracle.service.PipelineCatalog;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.Collection;

/** The embedded planner's pipeline catalog, as loaded. */
@Path("/api/pipelines")
@Produces(MediaType.APPLICATION_JSON)
public class PipelineResource {

    private final PipelineCatalog catalog;

    public PipelineResource(PipelineCatalog catalog) {
        this.catalog = catalog;
    }

    @GET
    public Collection<PipelineDefinition> all() {
        return catalog.all().values();
    }

    @GET
    @Path("/{name}")
    public PipelineDefinition one(@PathParam("name") String name) {
        return catalog.find(name).orElseThrow(() -> new NotFoundException("no pipeline " + name));
    }
}
