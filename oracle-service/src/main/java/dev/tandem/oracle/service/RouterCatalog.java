package dev.tandem.oracle.service;

import dev.tandem.oracle.client.RouterClient;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.router.v1.ModelEntry;
import dev.tandem.proto.worker.v1.WorkerTypeInfo;
import io.grpc.Deadline;
import io.grpc.Status;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the oracle reads from the router and caches with a TTL: the worker types (to validate plans and to
 * know each type's required capabilities) and the model catalog (to price planning on the oracle model). When
 * the router is unreachable the last known copy is used, and a log line says so.
 */
@ApplicationScoped
public class RouterCatalog {

    private static final Logger LOG = Logger.getLogger(RouterCatalog.class);

    private record Snapshot<T>(T value, Instant fetchedAt) {
    }

    private final RouterClient router;
    private final OracleConfig config;

    private volatile Snapshot<Map<String, WorkerTypeInfo>> workerTypes;
    private volatile Snapshot<Map<String, ModelEntry>> models;

    public RouterCatalog(RouterClient router, OracleConfig config) {
        this.router = router;
        this.config = config;
    }

    /** Worker types by name. UNAVAILABLE when the router cannot be reached and none were ever read. */
    public Map<String, WorkerTypeInfo> workerTypes(Deadline deadline) {
        var snapshot = workerTypes;
        if (fresh(snapshot)) {
            return snapshot.value();
        }
        var fetched = fetch("worker types", snapshot, () -> {
            var byName = new LinkedHashMap<String, WorkerTypeInfo>();
            router.listWorkerTypes(deadline).getWorkerTypesList().forEach(t -> byName.put(t.getName(), t));
            return Map.copyOf(byName);
        });
        if (fetched == null) {
            throw Status.UNAVAILABLE.withDescription(
                    "cannot validate the plan: the router is unreachable and no worker types are known yet")
                    .asRuntimeException();
        }
        workerTypes = fetched;
        return fetched.value();
    }

    /** A model of the router's catalog, empty when unknown or when the router was never reachable. */
    public Optional<ModelEntry> model(String id, Deadline deadline) {
        var snapshot = models;
        if (!fresh(snapshot)) {
            var fetched = fetch("model catalog", snapshot, () -> {
                var byId = new LinkedHashMap<String, ModelEntry>();
                router.getCatalog(deadline).getModelsList().forEach(m -> byId.put(m.getId(), m));
                return Map.copyOf(byId);
            });
            if (fetched != null) {
                models = fetched;
                snapshot = fetched;
            }
        }
        return snapshot == null ? Optional.empty() : Optional.ofNullable(snapshot.value().get(id));
    }

    /** Forgets what was read, so the next use asks the router again. */
    public void invalidate() {
        workerTypes = null;
        models = null;
    }

    /** Makes the next use ask the router again, keeping what was read as the fallback if it cannot answer. */
    public void expire() {
        var w = workerTypes;
        if (w != null) {
            workerTypes = new Snapshot<>(w.value(), Instant.EPOCH);
        }
        var m = models;
        if (m != null) {
            models = new Snapshot<>(m.value(), Instant.EPOCH);
        }
    }

    private boolean fresh(Snapshot<?> snapshot) {
        return snapshot != null && snapshot.fetchedAt().plus(config.router().cacheTtl()).isAfter(Instant.now());
    }

    private <T> Snapshot<T> fetch(String what, Snapshot<T> lastKnown, Supplier<T> read) {
        try {
            return new Snapshot<>(read.get(), Instant.now());
        } catch (RuntimeException e) {
            if (lastKnown == null) {
                LOG.errorf("router unreachable reading the %s and none known yet: %s", what, e.getMessage());
                return null;
            }
            LOG.warnf("router unreachable reading the %s (%s); using the last known copy from %s",
                    what, e.getMessage(), lastKnown.fetchedAt());
            // keep the old copy but do not hammer the router on every request while it is down
            return new Snapshot<>(lastKnown.value(), Instant.now());
        }
    }
}
