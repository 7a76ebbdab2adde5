package dev.tandem.oracle.rest;

import dev.tandem.grpc.FieldViolation;
import dev.tandem.oracle.mapping.TaskViews;
import dev.tandem.oracle.repository.TaskRepository;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.List;

/**
 * Recent tasks (an in-memory window, newest first) and one task with its plan, steps and cost. A tenant's key sees
 * only that tenant's tasks (another tenant's task is "not found"); admin keys see all.
 */
@Path("/api/tasks")
@Produces(MediaType.APPLICATION_JSON)
public class TaskResource {

    private final TaskRepository tasks;

    public TaskResource(TaskRepository tasks) {
        this.tasks = tasks;
    }

    /** An error of this API: a message and, for bad input, the offending fields. */
    public record ErrorView(String error, List<FieldViolation> violations) {
    }

    @GET
    public List<TaskViews.TaskSummary> recent(@QueryParam("limit") @DefaultValue("20") String limitParam,
                                              @Context ContainerRequestContext request) {
        // parsed here: a value JAX-RS cannot convert was a bare 404, and a refusal had no body
        int limit;
        try {
            limit = limitParam.isBlank() ? 20 : Integer.parseInt(limitParam.strip());
        } catch (NumberFormatException e) {
            limit = 0;
        }
        if (limit < 1 || limit > 1000) {
            throw new WebApplicationException(Response.status(Response.Status.BAD_REQUEST)
                    .type(MediaType.APPLICATION_JSON).entity(new ErrorView("bad request", List.of(
                            new FieldViolation("limit", "a whole number from 1 to 1000, not '" + limitParam + "'"))))
                    .build());
        }
        var caller = AdminAccessFilter.caller(request);
        var tenant = caller.admin() ? null : caller.tenant();
        return tasks.recent(limit, tenant).stream().map(TaskViews::summary).toList();
    }

    @GET
    @Path("/{id}")
    public TaskViews.TaskDetail one(@PathParam("id") String id, @Context ContainerRequestContext request) {
        var caller = AdminAccessFilter.caller(request);
        return tasks.find(id).filter(t -> caller.admin() || t.tenant().equals(caller.tenant()))
                .map(TaskViews::detail)
                .orElseThrow(() -> new NotFoundException("no recent task " + id));
    }
}
