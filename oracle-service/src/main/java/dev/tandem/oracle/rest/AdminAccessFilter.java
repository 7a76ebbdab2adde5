package dev.tandem.oracle.rest;

import dev.tandem.oracle.security.Caller;
import dev.tandem.oracle.security.ClientAccess;
import io.grpc.StatusRuntimeException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.Map;
import java.util.Optional;

/**
 * The admin endpoints under {@code /api} take the same API keys as the gRPC API (header {@code X-Api-Key} or
 * {@code Authorization: Bearer}). A tenant's key sees that tenant's tasks; keys of {@code admin-tenants} see
 * everything. With {@code auth=none} every caller is an admin, as before.
 */
public class AdminAccessFilter {

    static final String CALLER = "tandem.caller";

    private final ClientAccess access;

    public AdminAccessFilter(ClientAccess access) {
        this.access = access;
    }

    @ServerRequestFilter
    public Optional<Response> authenticate(ContainerRequestContext request) {
        if (!request.getUriInfo().getPath().startsWith("/api/")) {
            return Optional.empty();
        }
        var key = Optional.ofNullable(request.getHeaderString("X-Api-Key"));
        var authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (key.isEmpty() && authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            key = Optional.of(authorization.substring(7).strip());
        }
        try {
            request.setProperty(CALLER, access.authenticate(key, ""));
            return Optional.empty();
        } catch (StatusRuntimeException e) {
            return Optional.of(Response.status(Response.Status.UNAUTHORIZED).type(MediaType.APPLICATION_JSON)
                    .entity(Map.of("error", String.valueOf(e.getStatus().getDescription()))).build());
        }
    }

    /** The caller the filter admitted. */
    static Caller caller(ContainerRequestContext request) {
        return (Caller) request.getProperty(CALLER);
    }
}
