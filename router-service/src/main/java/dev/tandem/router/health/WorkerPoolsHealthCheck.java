package dev.tandem.router.health;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.client.WorkerPools;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready while at least one worker pool's circuit is not open; reports every pool's circuit and load. */
@Readiness
@ApplicationScoped
public class WorkerPoolsHealthCheck implements HealthCheck {

    private final CatalogHolder catalogs;

    private final WorkerPools pools;

    public WorkerPoolsHealthCheck(CatalogHolder catalogs, WorkerPools pools) {
        this.catalogs = catalogs;
        this.pools = pools;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder builder = HealthCheckResponse.named("worker-pools");
        boolean anyUsable = false;
        for (WorkerPool pool : catalogs.current().pools()) {
            String circuit = pools.circuitLabel(pool);
            anyUsable |= !"open".equals(circuit);
            builder.withData(pool.id(), circuit + ", " + pools.inFlight(pool) + "/" + pool.capacity() + " in flight");
        }
        return builder.status(anyUsable).build();
    }
}
