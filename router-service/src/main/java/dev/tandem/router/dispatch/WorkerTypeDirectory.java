package dev.tandem.router.dispatch;

import java.util.List;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.proto.worker.v1.ListWorkerTypesRequest;
import dev.tandem.proto.worker.v1.WorkerTypeInfo;
import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.client.WorkerPools;
import dev.tandem.router.config.RouterConfig;
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import org.jboss.logging.Logger;

/** The worker types the pools execute, asked from the first healthy pool and cached for a configured time. */
@ApplicationScoped
public class WorkerTypeDirectory {

    private static final Logger LOG = Logger.getLogger(WorkerTypeDirectory.class);
    private static final long LIST_TIMEOUT_SECONDS = 10;

    private record Cached(List<WorkerTypeInfo> types, long expiresAtNanos) {
    }

    private final CatalogHolder catalogs;

    private final WorkerPools pools;

    private final RouterConfig config;

    public WorkerTypeDirectory(CatalogHolder catalogs, WorkerPools pools, RouterConfig config) {
        this.catalogs = catalogs;
        this.pools = pools;
        this.config = config;
    }

    private volatile Cached cached;
    private volatile long listingFailedUntilNanos;

    /**
     * The capabilities a worker type declares it needs, from the cached listing (loaded on first use); empty for
     * an unknown type or when no pool can list its types, so the caller's own requirements still apply.
     */
    public List<String> requiredCapabilities(String workerType, Deadline callerDeadline) {
        if (System.nanoTime() < listingFailedUntilNanos) {
            return List.of();
        }
        List<WorkerTypeInfo> types;
        try {
            types = workerTypes(callerDeadline);
        } catch (RoutingFailedException e) {
            // not asked again on every step while the pools cannot list their types
            listingFailedUntilNanos = System.nanoTime() + config.workerTypes().cacheTtl().toNanos();
            return List.of();
        }
        for (int i = 0; i < types.size(); i++) {
            if (types.get(i).getName().equals(workerType)) {
                return types.get(i).getRequiredCapabilitiesList();
            }
        }
        return List.of();
    }

    /**
     * @throws RoutingFailedException when no pool answers
     */
    public List<WorkerTypeInfo> workerTypes(Deadline callerDeadline) {
        Cached c = cached;
        if (c != null && System.nanoTime() < c.expiresAtNanos()) {
            return c.types();
        }
        Deadline deadline = Deadline.after(LIST_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (callerDeadline != null) {
            deadline = deadline.minimum(callerDeadline);
        }
        StringBuilder errors = new StringBuilder();
        for (WorkerPool pool : catalogs.current().pools()) {
            if (pools.circuitLabel(pool).equals("open")) {
                errors.append(pool.id()).append(": circuit open; ");
                continue;
            }
            try {
                List<WorkerTypeInfo> types = pools.stub(pool).withDeadline(deadline)
                        .listWorkerTypes(ListWorkerTypesRequest.getDefaultInstance()).getWorkerTypesList();
                cached = new Cached(List.copyOf(types),
                        System.nanoTime() + config.workerTypes().cacheTtl().toNanos());
                LOG.infof("worker pool %s lists %d worker types", pool.id(), types.size());
                return types;
            } catch (StatusRuntimeException e) {
                LOG.warnf("worker pool %s could not list worker types: %s", pool.id(), e.getStatus());
                errors.append(pool.id()).append(": ").append(e.getStatus().getCode()).append("; ");
            } catch (RuntimeException e) {
                // the pool's channel could not be built (an endpoint no name resolver reads): this pool fails, the
                // next one is asked; thrown on, it failed every Dispatch and ListWorkerTypes as INTERNAL
                LOG.warnf("worker pool %s has no channel: %s", pool.id(), e.getMessage());
                errors.append(pool.id()).append(": ").append(e.getMessage()).append("; ");
            }
        }
        throw new RoutingFailedException(RoutingFailedException.Kind.BACKENDS_FAILED,
                "no worker pool listed its worker types: " + errors);
    }
}
