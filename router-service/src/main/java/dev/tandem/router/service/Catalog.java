package dev.tandem.router.service;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import dev.tandem.router.config.RouterConfig;

/**
 * Immutable snapshot of models, pools and selection settings. Replaced as a whole (never mutated) so a
 * routing decision always sees one consistent catalog.
 */
public final class Catalog {

    private final Map<String, ModelProfile> models;
    private final Map<String, WorkerPool> pools;
    private final Backend[] backends;
    private final String oracleModelId;
    private final Map<String, Double> qualityTargets;
    private final double defaultQualityTarget;
    private final Map<String, Long> outputTokens;
    private final long defaultOutputTokens;
    private final long defaultInputTokens;
    private final int charsPerToken;

    public Catalog(List<ModelProfile> models, List<WorkerPool> pools, String oracleModelId,
                   Map<String, Double> qualityTargets, double defaultQualityTarget, Map<String, Long> outputTokens,
                   long defaultOutputTokens, long defaultInputTokens, int charsPerToken) {
        Map<String, ModelProfile> byId = new LinkedHashMap<>();
        for (ModelProfile m : models) {
            byId.put(m.id(), m);
        }
        Map<String, WorkerPool> poolsById = new LinkedHashMap<>();
        List<Backend> pairs = new ArrayList<>();
        for (WorkerPool pool : pools) {
            poolsById.put(pool.id(), pool);
            for (String modelId : new HashSet<>(pool.models())) {
                ModelProfile model = byId.get(modelId);
                if (model == null) {
                    throw new IllegalArgumentException("pool " + pool.id() + " serves model " + modelId
                            + " which is not in the catalog (known: " + byId.keySet() + ")");
                }
                pairs.add(new Backend(model, pool));
            }
        }
        pairs.sort((a, b) -> a.key().compareTo(b.key()));
        this.models = Map.copyOf(byId);
        this.pools = Map.copyOf(poolsById);
        this.backends = pairs.toArray(Backend[]::new);
        this.oracleModelId = oracleModelId;
        this.qualityTargets = Map.copyOf(qualityTargets);
        this.defaultQualityTarget = defaultQualityTarget;
        this.outputTokens = Map.copyOf(outputTokens);
        this.defaultOutputTokens = defaultOutputTokens;
        this.defaultInputTokens = defaultInputTokens;
        this.charsPerToken = Math.max(1, charsPerToken);
    }

    /** The catalog described by the configuration. */
    public static Catalog from(RouterConfig config) {
        List<ModelProfile> models = new ArrayList<>();
        new TreeMap<>(config.models()).forEach((id, m) -> models.add(new ModelProfile(id, m.tier(),
                m.inputUsdPerMtok(), m.outputUsdPerMtok(), m.cachedInputUsdPerMtok().orElse(m.inputUsdPerMtok()),
                new HashSet<>(m.capabilities().orElse(List.of())), m.contextTokens(),
                new HashSet<>(m.residencyTags().orElse(List.of())), new HashSet<>(m.workerTypes().orElse(List.of())),
                m.priorQuality())));
        List<WorkerPool> pools = new ArrayList<>();
        new TreeMap<>(config.pools()).forEach((id, p) -> pools.add(new WorkerPool(id, p.endpoint(), p.models(),
                p.capacity(), p.gpu().orElse(""), p.plaintext())));
        return new Catalog(models, pools, config.oracleModel(), config.qualityTarget(), config.defaultQualityTarget(),
                config.estimates().outputTokens(), config.estimates().defaultOutputTokens(),
                config.estimates().defaultInputTokens(), config.estimates().charsPerToken());
    }

    /** Every (model, pool) pair, sorted by key; the array is shared, callers must not modify it. */
    Backend[] backends() {
        return backends;
    }

    public List<Backend> backendList() {
        return List.of(backends);
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

    public String oracleModelId() {
        return oracleModelId;
    }

    public Optional<ModelProfile> oracleModel() {
        return model(oracleModelId);
    }

    public double qualityTarget(String workerType) {
        Double target = qualityTargets.get(workerType);
        return target != null ? target : defaultQualityTarget;
    }

    public long outputTokens(String workerType) {
        Long tokens = outputTokens.get(workerType);
        return tokens != null ? tokens : defaultOutputTokens;
    }

    public long defaultInputTokens() {
        return defaultInputTokens;
    }

    /** Input tokens estimated from a text length. */
    public long estimateTokens(long chars) {
        return (chars + charsPerToken - 1) / charsPerToken;
    }
}
