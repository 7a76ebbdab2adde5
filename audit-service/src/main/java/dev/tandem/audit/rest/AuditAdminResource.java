package dev.tandem.audit.rest;

import java.util.List;

import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import io.smallrye.common.annotation.Blocking;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.service.AuditLedgerService;
import dev.tandem.audit.service.InvalidAuditRequestException;
import dev.tandem.audit.service.LedgerUnavailableException;
import dev.tandem.audit.service.NotFoundException;

/** Read-only admin view of trust states and the ledger. */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@Blocking
public class AuditAdminResource {

    private final AuditLedgerService audit;

    public AuditAdminResource(AuditLedgerService audit) {
        this.audit = audit;
    }

    @GET
    @Path("/streams")
    public List<StreamView> streams() {
        return audit.listStreams().stream().map(StreamView::of).toList();
    }

    /** The backend may contain slashes (hosted model names such as "meta-llama/Llama-3.1-8B"). */
    @GET
    @Path("/streams/{backend: .+}/{type}")
    public StreamView stream(@PathParam("backend") String backend, @PathParam("type") String type,
            @QueryParam("tenant") @DefaultValue("") String tenant) {
        return StreamView.of(audit.getStream(new StreamKey(backend, type, tenant)));
    }

    @GET
    @Path("/decisions")
    public List<DecisionView> decisions(@QueryParam("task_id") String taskId,
            @QueryParam("worker_backend") String workerBackend, @QueryParam("worker_type") String workerType,
            @QueryParam("limit") @DefaultValue("0") int limit) {
        return audit.listDecisions(taskId, workerBackend, workerType, limit).stream().map(DecisionView::of).toList();
    }

    /** Decision ids usually contain slashes ("task/step/attempt"): raw or URL-encoded both work. */
    @GET
    @Path("/decisions/{id: .+}")
    public DecisionView decision(@PathParam("id") String decisionId) {
        return DecisionView.of(audit.getDecision(decisionId));
    }

    @GET
    @Path("/state-changes")
    public List<StateChangeView> stateChanges(@QueryParam("worker_backend") String workerBackend,
            @QueryParam("worker_type") String workerType, @QueryParam("limit") @DefaultValue("0") int limit) {
        return audit.listStateChanges(workerBackend, workerType, limit).stream().map(StateChangeView::of).toList();
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return error(Response.Status.NOT_FOUND, new ErrorView(e.getMessage(), List.of()));
    }

    @ServerExceptionMapper
    public Response invalid(InvalidAuditRequestException e) {
        return error(Response.Status.BAD_REQUEST, new ErrorView(e.getMessage(), e.violations()));
    }

    @ServerExceptionMapper
    public Response unavailable(LedgerUnavailableException e) {
        return error(Response.Status.SERVICE_UNAVAILABLE, new ErrorView("audit ledger unavailable", List.of()));
    }

    private static Response error(Response.Status status, ErrorView body) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(body).build();
    }
}
