package dev.tandem.models.catalog;

import dev.tandem.models.Provider;
import dev.tandem.models.config.ModelConfig;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The model catalog in the properties form, {@code tandem.catalog.*}: one entry per model,
 * {@code tandem.catalog.models."<id>".*}, and the catalog directory every service reads. A group of each service's
 * {@code @ConfigMapping} (prefix {@code tandem}); nothing has a default here, so an unset key stays unset and each
 * service applies its own default ({@link ModelCatalog#entry} turns an entry into a {@link CatalogEntry}).
 */
public interface CatalogConfig {

    /** Models by id. */
    Map<String, Model> models();

    /**
     * Directory of catalog files (a mounted ConfigMap): one file per model, {@code <id>.yaml}, {@code <id>.yml} or
     * {@code <id>.json}, with the keys of an entry; the router also reads documents of models and pools there.
     */
    Optional<String> dir();

    /** One model: how to reach it and what it is. The keys and their meaning are those of {@link CatalogEntry}. */
    interface Model {
        // how to reach it: the keys of ModelConfig (worker-service/README.md, Configuration)
        Optional<Provider> provider();

        Optional<String> encoder();

        Optional<Double> exemplarShare();

        Optional<String> baseUrl();

        Optional<String> model();

        Optional<String> apiKeyEnv();

        Optional<String> apiKeyFile();

        Optional<Duration> connectTimeout();

        Optional<Duration> requestTimeout();

        Map<String, String> headers();

        Optional<String> structuredOutput();

        Optional<Boolean> strictSchema();

        Optional<String> extraBody();

        Optional<String> maxTokensParameter();

        Optional<Integer> maxOutputTokens();

        Optional<ModelConfig.Replay> replay();

        Optional<List<String>> capabilities();

        // what it is: the router's keys (router-service/README.md, Catalog)
        Optional<String> tier();

        Optional<Double> inputUsdPerMtok();

        Optional<Double> outputUsdPerMtok();

        Optional<Double> cachedInputUsdPerMtok();

        Optional<Integer> contextTokens();

        Optional<List<String>> residencyTags();

        Optional<List<String>> workerTypes();

        Optional<Double> priorQuality();

        /** The worker pools that serve the model ({@code tandem.router.pools.<pool>.*} define the pools). */
        Optional<List<String>> pools();

        /** Price of an input token through the provider's batch API, per 1M; with the output one: a batch path. */
        Optional<Double> batchInputUsdPerMtok();

        /** Price of an output token through the provider's batch API, per 1M. */
        Optional<Double> batchOutputUsdPerMtok();
    }
}
