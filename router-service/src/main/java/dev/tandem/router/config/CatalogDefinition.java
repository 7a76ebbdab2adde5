package dev.tandem.router.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Models and pools as written in a catalog file (a mounted ConfigMap) or sent to the admin API: the same keys as
 * the {@code tandem.router.models} and {@code tandem.router.pools} properties. Unknown keys are errors, so a typo
 * does not silently fall back to a default.
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
            @JsonProperty("prior-quality") Double priorQuality) {

        /** The problems of this definition, each prefixed with {@code field}; empty when valid. */
        public List<String> violations(String field) {
            List<String> out = new ArrayList<>();
            if (tier == null) {
                out.add(field + ".tier is required (SMALL, MEDIUM, LARGE or ORACLE)");
            }
            nonNegative(out, field + ".input-usd-per-mtok", inputUsdPerMtok);
            nonNegative(out, field + ".output-usd-per-mtok", outputUsdPerMtok);
            nonNegative(out, field + ".cached-input-usd-per-mtok", cachedInputUsdPerMtok);
            if (contextTokens != null && contextTokens <= 0) {
                out.add(field + ".context-tokens must be positive");
            }
            if (priorQuality != null && (priorQuality < 0 || priorQuality > 1)) {
                out.add(field + ".prior-quality must be in [0, 1]");
            }
            return out;
        }
    }

    /** One worker pool; unset fields take the same defaults as the properties. */
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
            if (models == null || models.isEmpty()) {
                out.add(field + ".models must list at least one model id");
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

    /** The configured models and pools in this form. */
    public static CatalogDefinition of(RouterConfig config) {
        Map<String, Model> models = new LinkedHashMap<>();
        config.models().forEach((id, m) -> models.put(id, new Model(m.tier(), m.inputUsdPerMtok(),
                m.outputUsdPerMtok(), m.cachedInputUsdPerMtok().orElse(null), m.capabilities().orElse(List.of()),
                m.contextTokens(), m.residencyTags().orElse(List.of()), m.workerTypes().orElse(List.of()),
                m.priorQuality())));
        Map<String, Pool> pools = new LinkedHashMap<>();
        config.pools().forEach((id, p) -> pools.put(id, new Pool(p.endpoint(), p.models(), p.capacity(),
                p.gpu().orElse(null), p.plaintext(), p.gpus(), p.usdPerGpuSecond())));
        return new CatalogDefinition(models, pools);
    }

    private static void nonNegative(List<String> out, String field, Double value) {
        if (value != null && (value < 0 || value.isNaN())) {
            out.add(field + " must not be negative");
        }
    }
}
