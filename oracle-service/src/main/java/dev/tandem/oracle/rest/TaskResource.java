package dev.tandem.oracle.rest;

import dev.tandem.oracle.mapping.TaskViews;
import dev.tandem.oracle.repository.TaskRepository;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import java.util.List;

/** Recent tasks (an in-memory window, newest first) and one task with its plan, steps and cost. */
@Path("/api/tasks")
@Produces(MediaType.APPLICATION_JSON)
public class TaskResource {

    @Inject
    TaskRepository tasks;

    @GET
    public List<TaskViews.TaskSummary> recent(@QueryParam("limit") @DefaultValue("20") int limit) {
        if (limit < 1 || limit > 1000) {
            throw new BadRequestException("limit must be between 1 and 1000");
        }
        return tasks.recent(limit).stream().map(TaskViews::summary).toList();
    }

    @GET
    @Path("/{id}")
    public TaskViews.TaskDetail one(@PathParam("id") String id) {
        return tasks.find(id).map(TaskViews::detail)
                .orElseThrow(() -> new NotFoundException("no recent task " + id));
    }
}
