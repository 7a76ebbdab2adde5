package dev.tandem.models.catalog;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.tandem.models.Provider;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One model of the catalog, the one entry a model needs: how to reach it (read by the services that call models,
 * the worker and the oracle) and what it is (read by the router). The same keys as
 * {@code tandem.catalog.models."<id>".*} and as a catalog file; every field may be unset, and each reader applies
 * its own defaults (see {@link dev.tandem.models.config.ModelSpecs} and the router's catalog).
 *
 * @param id          only in a catalog file whose name is not the id (a ConfigMap key cannot hold every id)
 * @param extraBody   a JSON object, or in the properties form the object as text
 * @param tier        the router's tier: SMALL, MEDIUM, LARGE or ORACLE; an entry without one is not routed to
 * @param pools       the worker pools that serve the model
 * @param batchInputUsdPerMtok  price of an input token sent through the provider's batch API (OpenAI Batch,
 *                              Anthropic Message Batches), per 1M; with {@code batchOutputUsdPerMtok} it offers the
 *                              model's batch path to BATCH-class steps (cached input in a batch: the lower of the
 *                              cached-input and batch-input prices)
 * @param batchOutputUsdPerMtok price of an output token through the batch API, per 1M
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CatalogEntry(
        String id,
        // how to reach it
        Provider provider,
        String encoder,
        @JsonProperty("exemplar-share") Double exemplarShare,
        @JsonProperty("base-url") String baseUrl,
        String model,
        @JsonProperty("api-key-env") String apiKeyEnv,
        @JsonProperty("api-key-file") String apiKeyFile,
        @JsonProperty("connect-timeout") @JsonDeserialize(using = DurationText.Deserializer.class)
        Duration connectTimeout,
        @JsonProperty("request-timeout") @JsonDeserialize(using = DurationText.Deserializer.class)
        Duration requestTimeout,
        Map<String, String> headers,
        @JsonProperty("structured-output") String structuredOutput,
        @JsonProperty("strict-schema") Boolean strictSchema,
        @JsonProperty("extra-body") JsonNode extraBody,
        @JsonProperty("max-tokens-parameter") String maxTokensParameter,
        @JsonProperty("max-output-tokens") Integer maxOutputTokens,
        Replay replay,
        List<String> capabilities,
        // what it is
        String tier,
        @JsonProperty("input-usd-per-mtok") Double inputUsdPerMtok,
        @JsonProperty("output-usd-per-mtok") Double outputUsdPerMtok,
        @JsonProperty("cached-input-usd-per-mtok") Double cachedInputUsdPerMtok,
        @JsonProperty("context-tokens") Integer contextTokens,
        @JsonProperty("residency-tags") List<String> residencyTags,
        @JsonProperty("worker-types") List<String> workerTypes,
        @JsonProperty("prior-quality") Double priorQuality,
        List<String> pools,
        @JsonProperty("batch-input-usd-per-mtok") Double batchInputUsdPerMtok,
        @JsonProperty("batch-output-usd-per-mtok") Double batchOutputUsdPerMtok) {

    public CatalogEntry {
        headers = headers == null ? null : Map.copyOf(headers);
        capabilities = capabilities == null ? null : List.copyOf(capabilities);
        residencyTags = residencyTags == null ? null : List.copyOf(residencyTags);
        workerTypes = workerTypes == null ? null : List.copyOf(workerTypes);
        pools = pools == null ? null : List.copyOf(pools);
    }

    /** A replay model's dataset: the keys of {@code replay.*}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Replay(
            String dataset,
            @JsonProperty("prompt-column") String promptColumn,
            @JsonProperty("response-column") String responseColumn,
            String model,
            @JsonProperty("key-input") String keyInput,
            String tokenizer) {
    }

    /** Whether the model offers a batch path: both batch prices are set. */
    @JsonIgnore
    public boolean offersBatch() {
        return batchInputUsdPerMtok != null && batchOutputUsdPerMtok != null;
    }

    /** Whether the entry says how to reach the model: the worker and the oracle can call it. */
    @JsonIgnore
    public boolean callable() {
        return provider != null;
    }

    /** Whether the entry says what the model is for routing: the router routes to it. */
    @JsonIgnore
    public boolean routable() {
        return tier != null;
    }

    /** The pools that serve the model; empty when the entry names none. */
    @JsonIgnore
    public List<String> poolsOrEmpty() {
        return pools == null ? List.of() : pools;
    }

    /** This entry under another id (a file's entry takes its id from the file name). */
    public CatalogEntry withId(String newId) {
        return new CatalogEntry(newId, provider, encoder, exemplarShare, baseUrl, model, apiKeyEnv, apiKeyFile,
                connectTimeout, requestTimeout, headers, structuredOutput, strictSchema, extraBody, maxTokensParameter,
                maxOutputTokens, replay, capabilities, tier, inputUsdPerMtok, outputUsdPerMtok, cachedInputUsdPerMtok,
                contextTokens, residencyTags, workerTypes, priorQuality, pools, batchInputUsdPerMtok,
                batchOutputUsdPerMtok);
    }
}
