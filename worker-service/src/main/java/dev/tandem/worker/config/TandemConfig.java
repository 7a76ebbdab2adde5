package dev.tandem.worker.config;

import dev.tandem.models.Provider;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The worker's configuration: the models it may run and how its step workflow behaves. */
@ConfigMapping(prefix = "tandem")
public interface TandemConfig {

    /** Models by catalog id, for example {@code tandem.models."embedded-minilm".encoder}. */
    Map<String, Model> models();

    /** Step workflow settings. */
    Worker worker();

    /** One configured model. */
    interface Model {
        /** How the model is reached: embedded, openai, anthropic or replay. */
        Provider provider();

        /** Embedded models: the encoder name, for example {@code all-minilm-l6-v2-q}. */
        Optional<String> encoder();

        /** Embedded models: share of each worker type's exemplars the model uses, in (0, 1]. */
        @WithDefault("1.0")
        double exemplarShare();

        /** Remote providers: the API base URL. */
        Optional<String> baseUrl();

        /** Remote providers: the model name the provider expects. */
        Optional<String> model();

        /** Remote providers: environment variable that holds the API key (never the key itself). */
        Optional<String> apiKeyEnv();

        /** Capabilities such as {@code embedding}, {@code json_schema} or {@code logprobs}. */
        @WithDefault("embedding")
        List<String> capabilities();
    }

    /** Step workflow settings. */
    interface Worker {
        /** Directory with extra worker type files ({@code *.json}), for example a mounted ConfigMap. */
        Optional<String> typesDir();

        /** Upper bound on the total characters of a step's inputs; larger steps are rejected in pre-flight. */
        @WithDefault("20000")
        int maxInputChars();

        /** Checkpoint store settings. */
        Checkpoint checkpoint();

        /** Review settings. */
        Review review();
    }

    /** Checkpoint store settings. */
    interface Checkpoint {
        /** Most step results kept; the least recently used are evicted first. */
        @WithDefault("10000")
        long maxEntries();

        /** How long a result stays replayable; router retries happen within seconds. */
        @WithDefault("PT30M")
        Duration ttl();
    }

    /** Review settings. */
    interface Review {
        /**
         * A candidate summary is accepted when its coverage (cosine of its centroid to the document centroid,
         * under the reviewer's encoder) is at least the reviewer's own coverage minus this margin.
         */
        @WithDefault("0.05")
        double summaryCoverageMargin();
    }
}
