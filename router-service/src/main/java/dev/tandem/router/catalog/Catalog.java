package dev.tandem.router.catalog;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

import dev.tandem.models.catalog.CatalogConfig;
import dev.tandem.router.config.CatalogDefinition;
import dev.tandem.router.config.RouterConfig;

/**
 * Immutable snapshot of models, pools and selection settings. Replaced as a whole (never mutated) so a
 * routing decision always sees one consistent catalog.
 */
public final class Catalog {

    /** Selection settings that come with every catalog snapshot. */
    public record Settings(String oracleModelId, Map<String, Double> qualityTargets, double defaultQualityTarget,
                           Map<String, Long> outputTokens, long defaultOutputTokens, long defaultInputTokens,
                           int charsPerToken, double defaultGpuSeconds, Map<String, Double> cascadeThresholds,
                           double defaultCascadeThreshold) {

        public Settings {
            qualityTargets = Map.copyOf(qualityTargets);
            outputTokens = Map.copyOf(outputTokens);
            cascadeThresholds = Map.copyOf(cascadeThresholds);
            charsPerToken = Math.max(1, charsPerToken);
        }

        public static Settings of(RouterConfig config) {
            return of(config, Map.of(), Map.of());
        }

        /** The configured settings with run-time overrides of quality targets and cascade thresholds. */
        public static Settings of(RouterConfig config, Map<String, Double> targetOverrides,
                                  Map<String, Double> thresholdOverrides) {
            Map<String, Double> targets = new HashMap<>(config.qualityTarget());
            targets.putAll(targetOverrides);
            Map<String, Double> thresholds = new HashMap<>(config.cascade().confidenceThreshold());
            thresholds.putAll(thresholdOverrides);
            return new Settings(config.oracleModel(), targets, config.defaultQualityTarget(),
                    config.estimates().outputTokens(), config.estimates().defaultOutputTokens(),
                    config.estimates().defaultInputTokens(), config.estimates().charsPerToken(),
                    config.estimates().defaultGpuSeconds(), thresholds,
                    config.cascade().defaultConfidenceThreshold());
        }
    }

    private final Map<String, Object> perWorkerType = new ConcurrentHashMap<>();
    private final Map<String, ModelProfile> models;
    private final Map<String, WorkerPool> pools;
    private final Backend[] backends;
    private final Settings settings;

    public Catalog(List<ModelProfile> models, List<WorkerPool> pools, Settings settings) {
        Map<String, ModelProfile> byId = new LinkedHashMap<>();
        for (ModelProfile m : models) {
            byId.put(m.id(), m);
        }
        Map<String, WorkerPool> poolsById = new LinkedHashMap<>();
        List<Backend> pairs = new ArrayList<>();
        for (WorkerPool pool : pools) {
            poolsById.put(pool.id(), pool);
            for (String modelId : new LinkedHashSet<>(pool.models())) {
                ModelProfile model = byId.get(modelId);
                if (model == null) {
                    throw new IllegalArgumentException("pool '" + pool.id() + "' serves model '" + modelId
                            + "' which is not in the catalog (known: " + new TreeMap<>(byId).keySet() + ")");
                }
                pairs.add(new Backend(model, pool));
            }
        }
        pairs.sort((a, b) -> a.key().compareTo(b.key()));
        this.models = Map.copyOf(byId);
        this.pools = Map.copyOf(poolsById);
        this.backends = pairs.toArray(Backend[]::new);
        this.settings = settings;
    }

    /** A catalog with the given selection settings and the default of one model second for GPU estimates. */
    public Catalog(List<ModelProfile> models, List<WorkerPool> pools, String oracleModelId,
                   Map<String, Double> qualityTargets, double defaultQualityTarget, Map<String, Long> outputTokens,
                   long defaultOutputTokens, long defaultInputTokens, int charsPerToken) {
        this(models, pools, new Settings(oracleModelId, qualityTargets, defaultQualityTarget, outputTokens,
                defaultOutputTokens, defaultInputTokens, charsPerToken, 1.0, Map.of(), 0));
    }

    /** The catalog described by the configuration alone. */
    public static Catalog from(RouterConfig config, CatalogConfig catalog) {
        return build(CatalogDefinition.of(config, catalog), Settings.of(config));
    }

    /**
     * The catalog of a definition: unset fields take the property defaults. A pool serves the models whose entry
     * names it, or, when it lists models itself (deprecated), exactly those.
     *
     * @throws IllegalArgumentException naming every problem when the definition is invalid
     */
    public static Catalog build(CatalogDefinition definition, Settings settings) {
        List<String> problems = new ArrayList<>();
        List<ModelProfile> models = new ArrayList<>();
        Map<String, List<String>> served = new TreeMap<>();
        new TreeMap<>(definition.models()).forEach((id, m) -> {
            List<String> v = m.violations("models." + id);
            if (!v.isEmpty()) {
                problems.addAll(v);
                return;
            }
            double input = m.inputUsdPerMtok() == null ? 0 : m.inputUsdPerMtok();
            var profile = new ModelProfile(id, m.tier(), input, m.outputUsdPerMtok() == null ? 0 : m.outputUsdPerMtok(),
                    m.cachedInputUsdPerMtok() == null ? input : m.cachedInputUsdPerMtok(),
                    new HashSet<>(orEmpty(m.capabilities())), m.contextTokens() == null ? 8192 : m.contextTokens(),
                    new HashSet<>(orEmpty(m.residencyTags())), new HashSet<>(orEmpty(m.workerTypes())),
                    m.priorQuality() == null ? 0.80 : m.priorQuality());
            models.add(m.batchInputUsdPerMtok() != null && m.batchOutputUsdPerMtok() != null
                    ? profile.withBatchPrices(m.batchInputUsdPerMtok(), m.batchOutputUsdPerMtok()) : profile);
            for (String pool : m.poolsOrEmpty()) {
                if (!definition.pools().containsKey(pool)) {
                    problems.add("models." + id + ".pools names pool '" + pool + "' which is not in the catalog "
                            + "(known: " + new TreeMap<>(definition.pools()).keySet() + ")");
                }
                served.computeIfAbsent(pool, k -> new ArrayList<>()).add(id);
            }
        });
        List<WorkerPool> pools = new ArrayList<>();
        new TreeMap<>(definition.pools()).forEach((id, p) -> {
            List<String> v = p.violations("pools." + id);
            if (!v.isEmpty()) {
                problems.addAll(v);
                return;
            }
            // a pool that lists its models (the deprecated form) serves exactly those, as it always did
            List<String> serves = !orEmpty(p.models()).isEmpty() ? List.copyOf(new LinkedHashSet<>(p.models()))
                    : served.getOrDefault(id, List.of());
            if (serves.isEmpty()) {
                problems.add("pools." + id + " serves no model: name it in a model's pools "
                        + "(tandem.catalog.models.\"<id>\".pools=" + id + ")");
                return;
            }
            pools.add(new WorkerPool(id, p.endpoint(), serves, p.capacity() == null ? 32 : p.capacity(),
                    p.gpu() == null ? "" : p.gpu(), p.plaintext() == null || p.plaintext(),
                    p.gpus() == null ? 1 : p.gpus(), p.usdPerGpuSecond() == null ? 0 : p.usdPerGpuSecond()));
        });
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return new Catalog(models, pools, settings);
    }

    private static List<String> orEmpty(List<String> list) {
        return list == null ? List.of() : list;
    }

    /**
     * What a caller derives from this snapshot for a worker type, computed once per snapshot and worker type and
     * dropped with the snapshot; the catalog does not look inside (selection keeps which backends serve the worker
     * type here: {@code ServedBy}; one kind of value per worker type). {@code derive} is called with this catalog,
     * so a method reference need not capture anything on the hot path.
     */
    public <T> T perWorkerType(String workerType, Class<T> type, BiFunction<Catalog, String, T> derive) {
        Object cached = perWorkerType.get(workerType);
        if (cached != null) {
            return type.cast(cached);
        }
        T computed = derive.apply(this, workerType);
        // bounded: worker types come from requests, so cache only while the set stays small
        if (perWorkerType.size() < 1000) {
            perWorkerType.putIfAbsent(workerType, computed);
        }
        return computed;
    }

    public List<Backend> backendList() {
        return List.of(backends);
    }

    public Optional<Backend> backend(String modelId, String poolId) {
        for (Backend b : backends) {
            if (b.model().id().equals(modelId) && b.pool().id().equals(poolId)) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    public List<ModelProfile> models() {
        List<ModelProfile> list = new ArrayList<>(models.values());
        list.sort((a, b) -> a.id().compareTo(b.id()));
        return list;
    }

    public List<WorkerPool> pools() {
        List<WorkerPool> list = new ArrayList<>(pools.values());
        list.sort((a, b) -> a.id().compareTo(b.id()));
        return list;
    }

    public Optional<ModelProfile> model(String id) {
        return Optional.ofNullable(models.get(id));
    }

    public Optional<WorkerPool> pool(String id) {
        return Optional.ofNullable(pools.get(id));
    }

    public Settings settings() {
        return settings;
    }

    public String oracleModelId() {
        return settings.oracleModelId();
    }

    public Optional<ModelProfile> oracleModel() {
        return model(settings.oracleModelId());
    }

    /** The oracle model, or null when the catalog names none (read on every decision: no Optional). */
    public ModelProfile oracleModelOrNull() {
        String id = settings.oracleModelId();
        return id == null ? null : models.get(id);
    }

    public double qualityTarget(String workerType) {
        Double target = settings.qualityTargets().get(workerType);
        return target != null ? target : settings.defaultQualityTarget();
    }

    /** Calibrated confidence under which an output of this worker type climbs the cascade; 0 for no such rule. */
    public double cascadeThreshold(String workerType) {
        Double threshold = settings.cascadeThresholds().get(workerType);
        return threshold != null ? threshold : settings.defaultCascadeThreshold();
    }

    public long outputTokens(String workerType) {
        Long tokens = settings.outputTokens().get(workerType);
        return tokens != null ? tokens : settings.defaultOutputTokens();
    }

    public long defaultInputTokens() {
        return settings.defaultInputTokens();
    }

    public double defaultGpuSeconds() {
        return settings.defaultGpuSeconds();
    }

    /** Input tokens estimated from a text length. */
    public long estimateTokens(long chars) {
        int charsPerToken = settings.charsPerToken();
        return (chars + charsPerToken - 1) / charsPerToken;
    }
}
