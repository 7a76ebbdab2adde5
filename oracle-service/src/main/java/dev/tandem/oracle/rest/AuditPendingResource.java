package dev.tandem.oracle.rest;

import dev.tandem.oracle.repository.PendingAuditRepository;
import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

import java.util.List;

/** Audit records waiting to be re-sent because the audit service was unavailable, oldest first (admins only). */
@Path("/api/audit/pending")
@Produces(MediaType.APPLICATION_JSON)
public class AuditPendingResource {

    public record PendingView(String decisionId, String kind) {
    }

    private final PendingAuditRepository pending;

    public AuditPendingResource(PendingAuditRepository pending) {
        this.pending = pending;
    }

    @GET
    public List<PendingView> list(@Context ContainerRequestContext request) {
        if (!AdminAccessFilter.caller(request).admin()) {
            throw new ForbiddenException("the pending audit records are visible to admin tenants only");
        }
        return pending.list().stream().map(r -> new PendingView(r.decisionId(), r.kind())).toList();
    }
}
