package dev.tandem.oracle.security;

import com.google.protobuf.Any;
import com.google.protobuf.util.Durations;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import dev.tandem.grpc.TrailerBudget;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.config.OracleConfig.AuthMode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.faulttolerance.api.RateLimitException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Optional;

/**
 * Admission to the public API: who the caller is (an API key decides the tenant when {@code auth=api-key}) and
 * whether the tenant is within its rate limit (a SmallRye Fault Tolerance rate limit per tenant: at most N tasks in
 * any rolling window, so short bursts up to N pass). Failures are gRPC statuses a client can act on: UNAUTHENTICATED, PERMISSION_DENIED, and
 * RESOURCE_EXHAUSTED with a {@code google.rpc.RetryInfo} saying when to retry.
 */
@ApplicationScoped
public class ClientAccess {

    private static final Logger LOG = Logger.getLogger(ClientAccess.class);

    private final OracleConfig config;
    private final ApiKeys keys;
    private final MeterRegistry registry;
    private final TenantRateLimits limits;
    private final TaskAdmission admission;

    public ClientAccess(OracleConfig config, ApiKeys keys, MeterRegistry registry) {
        this.config = config;
        this.keys = keys;
        this.registry = registry;
        this.admission = new TaskAdmission(config.limits().maxTasksInFlight(), registry);
        this.limits = new TenantRateLimits(config.limits().window());
    }

    /** A place for one running task on this replica, or RESOURCE_EXHAUSTED when it is at capacity. */
    public TaskAdmission.Permit runningTask() {
        return admission.enter();
    }

    void logMode(@Observes StartupEvent event) {
        if (config.access().auth() == AuthMode.API_KEY) {
            LOG.infof("public API: API keys required (%d known), tenant from the key", keys.size());
        } else {
            LOG.info("public API: no client authentication (tandem.oracle.access.auth=none); the request's tenant"
                    + " is trusted");
        }
    }

    /**
     * Authenticates the caller.
     *
     * @param key             the key the call presented, if any
     * @param requestedTenant the tenant the request names (may be empty)
     */
    public Caller authenticate(Optional<String> key, String requestedTenant) {
        if (config.access().auth() == AuthMode.NONE) {
            return new Caller(requestedTenant, false, true);
        }
        if (key.isEmpty() || key.get().isBlank()) {
            throw rejected("unauthenticated", Status.UNAUTHENTICATED.withDescription("an API key is required: send "
                    + "it as metadata 'authorization: Bearer <key>' or 'x-api-key: <key>'"));
        }
        var tenant = keys.tenantOf(key.get().strip());
        if (tenant.isEmpty()) {
            throw rejected("unauthenticated", Status.UNAUTHENTICATED.withDescription("the API key is not known"));
        }
        if (!requestedTenant.isEmpty() && !requestedTenant.equals(tenant.get())) {
            throw rejected("permission_denied", Status.PERMISSION_DENIED.withDescription(TrailerBudget.description(
                    "the API key belongs to tenant '" + tenant.get() + "'; it cannot run tasks for tenant '"
                            + requestedTenant + "'")));
        }
        boolean admin = config.access().adminTenants().orElse(List.of()).contains(tenant.get());
        return new Caller(tenant.get(), true, admin);
    }

    /** Takes one task permit of the caller's tenant, or fails with RESOURCE_EXHAUSTED and when to retry. */
    public void admitTask(Caller caller) {
        var permits = config.limits().tenantTasksPerWindow()
                .getOrDefault(caller.tenant(), config.limits().tasksPerWindow());
        if (permits <= 0) {
            return;
        }
        var guard = limits.of(caller.tenant(), permits);
        try {
            guard.get(() -> Boolean.TRUE, Boolean.class);
        } catch (RateLimitException e) {
            long retryMs = Math.max(1, e.getRetryAfterMillis());
            registry.counter("tandem.oracle.admission.rejected", "reason", "rate_limited",
                    "tenant", caller.tenant()).increment();
            throw StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                    .setCode(Code.RESOURCE_EXHAUSTED_VALUE)
                    .setMessage(String.format("tenant '%s' is over its rate limit of %d tasks per %s; retry in %d ms",
                            caller.tenant(), permits, config.limits().window(), retryMs))
                    .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(Durations.fromMillis(retryMs)).build()))
                    .build());
        }
    }

    private StatusRuntimeException rejected(String reason, Status status) {
        registry.counter("tandem.oracle.admission.rejected", "reason", reason, "tenant", "").increment();
        return status.asRuntimeException();
    }
}
