package dev.tandem.router.catalog;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tandem.models.catalog.LegacyKeys;
import dev.tandem.router.config.CatalogDefinition;
import dev.tandem.router.config.ModelCatalogConfig;
import dev.tandem.router.config.RouterConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.ScheduledExecution;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Where the catalog comes from, and how it changes at run time without a restart. Three layers, later ones win
 * per model or pool id:
 * <ol>
 *   <li>the configuration: the model catalog's entries ({@code tandem.catalog.models}), the deprecated
 *       {@code tandem.router.models}, and the pools ({@code tandem.router.pools});</li>
 *   <li>the files of the catalog directory, {@code tandem.catalog.dir} (a mounted ConfigMap; one model entry per
 *       {@code *.yaml}/{@code *.json} file, or documents of models and pools), in file-name order, re-read when their
 *       content changes (checked every {@code tandem.router.catalog.poll-interval});</li>
 *   <li>changes made through the admin API ({@code PUT/DELETE /api/catalog/models/{id}}, {@code .../pools/{id}}),
 *       kept in memory: they are lost on restart, durable changes belong in the ConfigMap.</li>
 * </ol>
 * Every change is validated as a whole before it is swapped in; an invalid file or request leaves the running
 * catalog as it was, and the error is logged, counted and shown on {@code GET /api/catalog}.
 * <p>
 * Longer than most classes on purpose: the layers are merged and swapped under one lock, and every change, from
 * whichever source, is validated by building the whole catalog and undone in place when that fails. Splitting the
 * layers into classes would split that lock and that undo. Reading and parsing the documents is
 * {@link CatalogDocuments}.
 */
@ApplicationScoped
public class CatalogSource {

    private static final Logger LOG = Logger.getLogger(CatalogSource.class);

    /** What the catalog was last built from. */
    public record Status(long version, Instant loadedAt, List<String> files, String lastError, Instant lastErrorAt,
                         Set<String> apiModels, Set<String> apiPools, Set<String> apiRemoved) {
    }

    /** The request itself is invalid (400). */
    public static class InvalidCatalogException extends RuntimeException {
        public InvalidCatalogException(String message) {
            super(message);
        }
    }

    /** The change conflicts with the rest of the catalog (409), for example removing a model a pool serves. */
    public static class CatalogConflictException extends RuntimeException {
        public CatalogConflictException(String message) {
            super(message);
        }
    }

    /** A run-time catalog change while the admin API is switched off ({@code catalog.admin-api=false}). */
    public static class AdminApiDisabledException extends RuntimeException {
        public AdminApiDisabledException(String message) {
            super(message);
        }
    }

    private final CatalogDocuments documents = new CatalogDocuments();

    private final CatalogHolder holder;

    private final RouterConfig config;

    private final MeterRegistry registry;

    private final ModelCatalogConfig modelCatalog;

    public CatalogSource(CatalogHolder holder, RouterConfig config, ModelCatalogConfig modelCatalog,
                         MeterRegistry registry) {
        this.holder = holder;
        this.config = config;
        this.modelCatalog = modelCatalog;
        this.registry = registry;
    }

    private CatalogDefinition base;
    private Map<String, CatalogDefinition> files = Map.of();
    private String filesFingerprint = "";
    private final Map<String, Double> targetOverrides = new TreeMap<>();
    private final Map<String, Double> thresholdOverrides = new TreeMap<>();
    private final Map<String, CatalogDefinition.Model> apiModels = new LinkedHashMap<>();
    private final Map<String, CatalogDefinition.Pool> apiPools = new LinkedHashMap<>();
    private final Set<String> apiRemovedModels = new TreeSet<>();
    private final Set<String> apiRemovedPools = new TreeSet<>();
    private long version;
    private Instant loadedAt = Instant.now();
    private String lastError;
    private Instant lastErrorAt;

    void onStart(@Observes StartupEvent event) {
        Gauge.builder("tandem.router.catalog.models", holder, h -> h.current().models().size())
                .description("Models in the current catalog").register(registry);
        Gauge.builder("tandem.router.catalog.version", this, s -> s.version)
                .description("Catalog changes applied since start").register(registry);
        LegacyKeys.warnings(ConfigProvider.getConfig()).forEach(LOG::warn);
        synchronized (this) {
            base = CatalogDefinition.of(config, modelCatalog.catalog());
        }
        if (directory().isPresent()) {
            reloadDirectory();
        }
    }

    /** The catalog directory: {@code tandem.catalog.dir}, or the deprecated {@code tandem.router.catalog.dir}. */
    private Optional<String> directory() {
        return modelCatalog.catalog().dir().or(() -> config.catalog().dir());
    }

    /** Skips directory polling unless {@code tandem.catalog.dir} (or the deprecated router key) is set. */
    public static class NoCatalogDir implements Scheduled.SkipPredicate {
        @Override
        public boolean test(ScheduledExecution execution) {
            var config = ConfigProvider.getConfig();
            return config.getOptionalValue("tandem.catalog.dir", String.class)
                    .or(() -> config.getOptionalValue("tandem.router.catalog.dir", String.class)).isEmpty();
        }
    }

    @Scheduled(identity = "catalog-dir-poll", every = "${tandem.router.catalog.poll-interval}", delayed = "2s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP, skipExecutionIf = NoCatalogDir.class)
    void poll() {
        reloadDirectory();
    }

    /** Re-reads the catalog directory; applies it when its content changed. */
    public synchronized void reloadDirectory() {
        Optional<String> dir = directory();
        if (dir.isEmpty()) {
            return;
        }
        Path path = Path.of(dir.get());
        Map<String, CatalogDefinition> read;
        String fingerprint;
        try {
            CatalogDocuments.Directory directory = documents.read(path);
            read = directory.files();
            fingerprint = directory.fingerprint();
        } catch (IOException | InvalidCatalogException e) {
            String message = "catalog directory " + path + ": " + e.getMessage();
            if (!message.equals(lastError)) {
                LOG.errorf("%s; keeping the running catalog (version %d)", message, version);
            }
            failed(message, "dir");
            return;
        }
        if (fingerprint.equals(filesFingerprint)) {
            return;
        }
        Map<String, CatalogDefinition> previous = files;
        files = read;
        try {
            apply("dir", "catalog directory " + path + " (" + read.keySet() + ")");
            filesFingerprint = fingerprint;
        } catch (InvalidCatalogException | CatalogConflictException e) {
            files = previous;
            String message = "catalog directory " + path + ": " + e.getMessage();
            LOG.errorf("%s; keeping the running catalog (version %d)", message, version);
            failed(message, "dir");
            // remember the bad content so it is not re-reported on every poll
            filesFingerprint = fingerprint;
        }
    }

    /** Adds or replaces a model (admin API). */
    public synchronized Catalog putModel(String id, CatalogDefinition.Model model) {
        requireApi();
        requireId(id);
        List<String> violations = model.violations("models." + id);
        if (!violations.isEmpty()) {
            throw new InvalidCatalogException(String.join("; ", violations));
        }
        CatalogDefinition.Model previous = apiModels.put(id, model);
        boolean wasRemoved = apiRemovedModels.remove(id);
        try {
            return apply("api", "model " + id + " put");
        } catch (RuntimeException e) {
            restore(apiModels, id, previous);
            if (wasRemoved) {
                apiRemovedModels.add(id);
            }
            throw e;
        }
    }

    /** Removes a model (admin API); a pool that still serves it is a conflict. */
    public synchronized Catalog removeModel(String id) {
        requireApi();
        if (!effective().models().containsKey(id)) {
            throw new NoSuchElementException("no model '" + id + "' in the catalog");
        }
        CatalogDefinition.Model previous = apiModels.remove(id);
        apiRemovedModels.add(id);
        try {
            return apply("api", "model " + id + " removed");
        } catch (RuntimeException e) {
            apiRemovedModels.remove(id);
            restore(apiModels, id, previous);
            throw e;
        }
    }

    /** Adds or replaces a worker pool (admin API). */
    public synchronized Catalog putPool(String id, CatalogDefinition.Pool pool) {
        requireApi();
        requireId(id);
        List<String> violations = pool.violations("pools." + id);
        if (!violations.isEmpty()) {
            throw new InvalidCatalogException(String.join("; ", violations));
        }
        CatalogDefinition.Pool previous = apiPools.put(id, pool);
        boolean wasRemoved = apiRemovedPools.remove(id);
        try {
            return apply("api", "pool " + id + " put");
        } catch (RuntimeException e) {
            restore(apiPools, id, previous);
            if (wasRemoved) {
                apiRemovedPools.add(id);
            }
            throw e;
        }
    }

    /** Removes a worker pool (admin API). */
    public synchronized Catalog removePool(String id) {
        requireApi();
        if (!effective().pools().containsKey(id)) {
            throw new NoSuchElementException("no pool '" + id + "' in the catalog");
        }
        CatalogDefinition.Pool previous = apiPools.remove(id);
        apiRemovedPools.add(id);
        try {
            return apply("api", "pool " + id + " removed");
        } catch (RuntimeException e) {
            apiRemovedPools.remove(id);
            restore(apiPools, id, previous);
            throw e;
        }
    }

    /** What the admin API overrides of a worker type's policy: either value may be null (keep the current one). */
    public record PolicyOverride(@JsonProperty("quality-target") Double qualityTarget,
                                 @JsonProperty("cascade-confidence-threshold")
                                 Double cascadeConfidenceThreshold) {
    }

    /** Sets a worker type's quality target and/or cascade threshold at run time (admin API; in memory). */
    public synchronized Catalog overridePolicy(String workerType, PolicyOverride override) {
        requireApi();
        List<String> problems = new ArrayList<>();
        if (workerType == null || workerType.isBlank()) {
            problems.add("worker type must not be empty");
        }
        if (override.qualityTarget() == null && override.cascadeConfidenceThreshold() == null) {
            problems.add("give quality-target and/or cascade-confidence-threshold");
        }
        inUnit(problems, "quality-target", override.qualityTarget());
        inUnit(problems, "cascade-confidence-threshold", override.cascadeConfidenceThreshold());
        if (!problems.isEmpty()) {
            throw new InvalidCatalogException(String.join("; ", problems));
        }
        if (override.qualityTarget() != null) {
            targetOverrides.put(workerType, override.qualityTarget());
        }
        if (override.cascadeConfidenceThreshold() != null) {
            thresholdOverrides.put(workerType, override.cascadeConfidenceThreshold());
        }
        return apply("api", "policy of " + workerType + " " + override);
    }

    /** Drops a worker type's run-time policy overrides: the configured values apply again. */
    public synchronized Catalog resetPolicy(String workerType) {
        requireApi();
        boolean had = targetOverrides.remove(workerType) != null;
        had |= thresholdOverrides.remove(workerType) != null;
        if (!had) {
            throw new NoSuchElementException("no policy override for worker type '" + workerType + "'");
        }
        return apply("api", "policy of " + workerType + " reset");
    }

    public synchronized Map<String, Map<String, Double>> policyOverrides() {
        return Map.of("quality-target", Map.copyOf(targetOverrides), "cascade-confidence-threshold",
                Map.copyOf(thresholdOverrides));
    }

    private static void inUnit(List<String> problems, String field, Double v) {
        if (v != null && (v.isNaN() || v < 0 || v > 1)) {
            problems.add(field + " must be in [0, 1]");
        }
    }

    /** Parses a catalog document (file or request body). */
    public CatalogDefinition parse(byte[] bytes, String what) {
        return documents.parse(bytes, what);
    }

    /** Parses part of a catalog (a model, a pool, a policy override) from a request body. */
    public <T> T parse(byte[] bytes, Class<T> type, String what) {
        return documents.parse(bytes, type, what);
    }

    public synchronized Status status() {
        return new Status(version, loadedAt, List.copyOf(files.keySet()), lastError, lastErrorAt,
                Set.copyOf(apiModels.keySet()), Set.copyOf(apiPools.keySet()),
                Set.copyOf(concat(apiRemovedModels, apiRemovedPools)));
    }

    private static Set<String> concat(Set<String> models, Set<String> pools) {
        Set<String> out = new TreeSet<>();
        models.forEach(m -> out.add("model " + m));
        pools.forEach(p -> out.add("pool " + p));
        return out;
    }

    private Catalog apply(String source, String what) {
        CatalogDefinition effective = effective();
        Catalog catalog;
        try {
            catalog = Catalog.build(effective, Catalog.Settings.of(config, targetOverrides, thresholdOverrides));
        } catch (IllegalArgumentException e) {
            count(source, "rejected");
            String message = e.getMessage();
            if (message != null && (message.contains("which is not in the catalog")
                    || message.contains("serves no model"))) {
                throw new CatalogConflictException(message);
            }
            throw new InvalidCatalogException(message);
        }
        Catalog before = holder.current();
        holder.replace(catalog);
        version++;
        loadedAt = Instant.now();
        count(source, "applied");
        LOG.infof("catalog version %d from %s: %d models, %d pools, %d backends (%s)", version, what,
                catalog.models().size(), catalog.pools().size(), catalog.backendList().size(), diff(before, catalog));
        return catalog;
    }

    private CatalogDefinition effective() {
        Map<String, CatalogDefinition.Model> models = new LinkedHashMap<>(base.models());
        Map<String, CatalogDefinition.Pool> pools = new LinkedHashMap<>(base.pools());
        for (CatalogDefinition file : files.values()) {
            models.putAll(file.models());
            pools.putAll(file.pools());
        }
        models.putAll(apiModels);
        pools.putAll(apiPools);
        apiRemovedModels.forEach(models::remove);
        apiRemovedPools.forEach(pools::remove);
        return new CatalogDefinition(models, pools);
    }

    private static String diff(Catalog before, Catalog after) {
        Set<String> was = new TreeSet<>();
        before.models().forEach(m -> was.add(m.id()));
        Set<String> now = new TreeSet<>();
        after.models().forEach(m -> now.add(m.id()));
        Set<String> added = new TreeSet<>(now);
        added.removeAll(was);
        Set<String> removed = new TreeSet<>(was);
        removed.removeAll(now);
        return "models added " + added + ", removed " + removed;
    }

    private void failed(String message, String source) {
        lastError = message;
        lastErrorAt = Instant.now();
        count(source, "rejected");
    }

    private void count(String source, String outcome) {
        Counter.builder("tandem.router.catalog.reloads").description("Catalog changes by source and outcome")
                .tags("source", source, "outcome", outcome).register(registry).increment();
    }

    private void requireApi() {
        if (!config.catalog().adminApi()) {
            throw new AdminApiDisabledException(
                    "catalog changes through the admin API are disabled (tandem.router.catalog.admin-api=false)");
        }
    }

    private static void requireId(String id) {
        if (id == null || id.isBlank() || id.length() > 200 || id.contains("@") || id.contains("\n")) {
            throw new InvalidCatalogException("id must be 1 to 200 characters without '@' or line breaks");
        }
    }

    private static <V> void restore(Map<String, V> map, String id, V previous) {
        if (previous == null) {
            map.remove(id);
        } else {
            map.put(id, previous);
        }
    }
}
