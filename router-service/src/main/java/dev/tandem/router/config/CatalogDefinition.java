package dev.tandem.router.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tandem.models.catalog.CatalogConfig;
import dev.tandem.models.catalog.CatalogEntry;
import dev.tandem.models.catalog.ModelCatalog;

/**
 * Models and pools as the router reads them: from the model catalog ({@code tandem.catalog.models}, one entry per
 * model, and its files), from a catalog document of models and pools (a mounted ConfigMap) or from the admin API;
 * the keys of a model are those of a catalog entry that say what the model is, a pool's those of
 * {@code tandem.router.pools}. Unknown keys are errors, so a typo does not silently fall back to a default.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CatalogDefinition(Map<String, Model> models, Map<String, Pool> pools) {

    public CatalogDefinition {
        models = models == null ? Map.of() : new LinkedHashMap<>(models);
        pools = pools == null ? Map.of() : new LinkedHashMap<>(pools);
    }

    /** One model; unset fields take the same defaults as the properties. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Model(
            ModelTier tier,
            @JsonProperty("input-usd-per-mtok") Double inputUsdPerMtok,
            @JsonProperty("output-usd-per-mtok") Double outputUsdPerMtok,
            @JsonProperty("cached-input-usd-per-mtok") Double cachedInputUsdPerMtok,
            List<String> capabilities,
            @JsonProperty("context-tokens") Integer contextTokens,
            @JsonProperty("residency-tags") List<String> residencyTags,
            @JsonProperty("worker-types") List<String> workerTypes,
            @JsonProperty("prior-quality") Double priorQuality,
            List<String> pools,
            @JsonProperty("batch-input-usd-per-mtok") Double batchInputUsdPerMtok,
            @JsonProperty("batch-output-usd-per-mtok") Double batchOutputUsdPerMtok) {

        public Model(ModelTier tier, Double inputUsdPerMtok, Double outputUsdPerMtok, Double cachedInputUsdPerMtok,
                     List<String> capabilities, Integer contextTokens, List<String> residencyTags,
                     List<String> workerTypes, Double priorQuality, List<String> pools) {
            this(tier, inputUsdPerMtok, outputUsdPerMtok, cachedInputUsdPerMtok, capabilities, contextTokens,
                    residencyTags, workerTypes, priorQuality, pools, null, null);
        }

        /** A model without pool memberships of its own (a pool lists it). */
        public Model(ModelTier tier, Double inputUsdPerMtok, Double outputUsdPerMtok, Double cachedInputUsdPerMtok,
                     List<String> capabilities, Integer contextTokens, List<String> residencyTags,
                     List<String> workerTypes, Double priorQuality) {
            this(tier, inputUsdPerMtok, outputUsdPerMtok, cachedInputUsdPerMtok, capabilities, contextTokens,
                    residencyTags, workerTypes, priorQuality, null);
        }

        /**
         * What a catalog entry says the model is, or nothing when it names no tier (the router does not route to
         * it).
         *
         * @throws IllegalArgumentException when the tier is not one of SMALL, MEDIUM, LARGE, ORACLE
         */
        public static Optional<Model> of(CatalogEntry entry) {
            if (entry.tier() == null) {
                return Optional.empty();
            }
            ModelTier tier;
            try {
                tier = ModelTier.valueOf(entry.tier().strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("models." + entry.id() + ".tier '" + entry.tier()
                        + "' is not one of SMALL, MEDIUM, LARGE, ORACLE");
            }
            return Optional.of(new Model(tier, entry.inputUsdPerMtok(), entry.outputUsdPerMtok(),
                    entry.cachedInputUsdPerMtok(), entry.capabilities(), entry.contextTokens(), entry.residencyTags(),
                    entry.workerTypes(), entry.priorQuality(), entry.pools(), entry.batchInputUsdPerMtok(),
                    entry.batchOutputUsdPerMtok()));
        }

        /** The model with the property defaults filled in, so that two forms of one model compare equal. */
        Model withDefaults() {
            return new Model(tier, inputUsdPerMtok == null ? 0 : inputUsdPerMtok,
                    outputUsdPerMtok == null ? 0 : outputUsdPerMtok, cachedInputUsdPerMtok,
                    capabilities == null ? List.of() : capabilities, contextTokens == null ? 8192 : contextTokens,
                    residencyTags == null ? List.of() : residencyTags, workerTypes == null ? List.of() : workerTypes,
                    priorQuality == null ? 0.80 : priorQuality, pools == null ? List.of() : pools,
                    batchInputUsdPerMtok, batchOutputUsdPerMtok);
        }

        /** The pools this model says serve it; empty when it names none. */
        public List<String> poolsOrEmpty() {
            return pools == null ? List.of() : pools;
        }

        /** The problems of this definition, each prefixed with {@code field}; empty when valid. */
        public List<String> violations(String field) {
            List<String> out = new ArrayList<>();
            if (tier == null) {
                out.add(field + ".tier is required (SMALL, MEDIUM, LARGE or ORACLE)");
            }
            nonNegative(out, field + ".input-usd-per-mtok", inputUsdPerMtok);
            nonNegative(out, field + ".output-usd-per-mtok", outputUsdPerMtok);
            nonNegative(out, field + ".cached-input-usd-per-mtok", cachedInputUsdPerMtok);
            nonNegative(out, field + ".batch-input-usd-per-mtok", batchInputUsdPerMtok);
            nonNegative(out, field + ".batch-output-usd-per-mtok", batchOutputUsdPerMtok);
            if ((batchInputUsdPerMtok == null) != (batchOutputUsdPerMtok == null)) {
                out.add(field + ".batch-input-usd-per-mtok and batch-output-usd-per-mtok go together: set both to "
                        + "offer the model's batch path, neither to offer none");
            }
            if (contextTokens != null && contextTokens <= 0) {
                out.add(field + ".context-tokens must be positive");
            }
            if (priorQuality != null && !(priorQuality >= 0 && priorQuality <= 1)) { // NaN too
                out.add(field + ".prior-quality must be in [0, 1]");
            }
            return out;
        }
    }

    /**
     * One worker pool; unset fields take the same defaults as the properties. It serves the models whose entry names
     * it ({@code pools}), or, when it lists models itself, exactly those; at least one.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Pool(
            String endpoint,
            List<String> models,
            Integer capacity,
            String gpu,
            Boolean plaintext,
            Integer gpus,
            @JsonProperty("usd-per-gpu-second") Double usdPerGpuSecond) {

        public List<String> violations(String field) {
            List<String> out = new ArrayList<>();
            if (endpoint == null || endpoint.isBlank()) {
                out.add(field + ".endpoint is required (a gRPC target such as dns:///worker-pool.tandem.svc:8082)");
            }
            if (capacity != null && capacity <= 0) {
                out.add(field + ".capacity must be positive");
            }
            if (gpus != null && gpus <= 0) {
                out.add(field + ".gpus must be positive");
            }
            nonNegative(out, field + ".usd-per-gpu-second", usdPerGpuSecond);
            return out;
        }
    }

    /**
     * The configured models and pools in this form: the model catalog's entries that name a tier
     * ({@code tandem.catalog.models}), the deprecated {@code tandem.router.models}, and the pools.
     *
     * @throws IllegalStateException when a model is defined by both forms and they differ, or an entry's tier is
     *                               not a tier
     */
    public static CatalogDefinition of(RouterConfig config, CatalogConfig catalog) {
        Map<String, Model> models = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        catalog.models().forEach((id, m) -> {
            try {
                Model.of(ModelCatalog.entry(id, m)).ifPresent(model -> models.put(id, model));
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        });
        config.models().forEach((id, m) -> {
            Model old = new Model(m.tier(), m.inputUsdPerMtok(), m.outputUsdPerMtok(),
                    m.cachedInputUsdPerMtok().orElse(null), m.capabilities().orElse(List.of()), m.contextTokens(),
                    m.residencyTags().orElse(List.of()), m.workerTypes().orElse(List.of()), m.priorQuality());
            Model current = models.get(id);
            if (current == null) {
                models.put(id, old);
            } else if (!sameModel(old, current)) {
                problems.add("model '" + id + "' is defined by both tandem.router.models.\"" + id + "\".* (deprecated) "
                        + "and tandem.catalog.models.\"" + id + "\".*, and they differ: keep the catalog entry, remove "
                        + "the old keys");
            }
        });
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Conflicting model catalog:\n  - " + String.join("\n  - ", problems));
        }
        Map<String, Pool> pools = new LinkedHashMap<>();
        config.pools().forEach((id, p) -> pools.put(id, new Pool(p.endpoint(), p.models().orElse(List.of()),
                p.capacity(), p.gpu().orElse(null), p.plaintext(), p.gpus(), p.usdPerGpuSecond())));
        return new CatalogDefinition(models, pools);
    }

    /** Whether two forms of one model say the same (the old form has no pools of its own: pools list it). */
    private static boolean sameModel(Model old, Model current) {
        Model a = old.withDefaults();
        Model b = current.withDefaults();
        return new Model(a.tier(), a.inputUsdPerMtok(), a.outputUsdPerMtok(), a.cachedInputUsdPerMtok(),
                a.capabilities(), a.contextTokens(), a.residencyTags(), a.workerTypes(), a.priorQuality(),
                b.pools(), b.batchInputUsdPerMtok(), b.batchOutputUsdPerMtok()).equals(b);
    }

    /** A price: an infinite one would make every cost and expected cost of the model infinite (or NaN). */
    private static void nonNegative(List<String> out, String field, Double value) {
        if (value != null && !(value >= 0 && value < Double.POSITIVE_INFINITY)) {
            out.add(field + " must not be negative or infinite");
        }
    }
}
