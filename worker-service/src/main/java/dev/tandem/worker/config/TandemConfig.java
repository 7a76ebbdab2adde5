package dev.tandem.worker.config;

import dev.tandem.models.catalog.CatalogConfig;
import dev.tandem.models.config.ModelConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The worker's configuration: the models it may run (the model catalog) and how its step workflow behaves. */
@ConfigMapping(prefix = "tandem")
public interface TandemConfig {

    /** The model catalog: one entry per model, {@code tandem.catalog.models."<id>".*}, and the catalog directory. */
    CatalogConfig catalog();

    /** Deprecated, read for one more release: models by id, {@code tandem.models."<id>".*}; use {@link #catalog()}. */
    Map<String, ModelConfig> models();

    /** Step workflow settings. */
    Worker worker();

    /** Step workflow settings. */
    interface Worker {
        /** Directory with extra worker type files ({@code *.json}), for example a mounted ConfigMap. */
        Optional<String> typesDir();

        /** Directory of the replay datasets the default configuration names (env {@code TANDEM_WORKER_REPLAY_DIR}). */
        Optional<String> replayDir();

        /**
         * Longest a step or review may run when its caller set a later deadline or none: the call's deadline is
         * the earlier of the caller's and this.
         */
        @WithDefault("30s")
        Duration maxStepTime();

        /** Upper bound on the total characters of a step's inputs; larger steps are rejected in pre-flight. */
        @WithDefault("200000")
        int maxInputChars();

        /** Checkpoint store settings. */
        Checkpoint checkpoint();

        /** Review settings. */
        Review review();

        /** BATCH-class calls through the providers' batch APIs. */
        Batch batch();

        /** Keyed calls ({@code idempotency_key}): one model call per key on this replica. */
        Idempotency idempotency();
    }

    /**
     * Keyed ExecuteStep and ReviewStep calls: a repeat of a key joins the model call in flight or gets its recorded
     * answer, so a router that repeats a call after a restart, or from another replica, does not pay for it again.
     */
    interface Idempotency {
        /**
         * How long the answer of a keyed call is kept for a repeat of its key, from when it was answered. It must
         * outlast the router's repeat: the router's own record keeps answers 15 min, and a resumed oracle asks again
         * within its lease (30 s by default) plus its start.
         */
        @WithDefault("15m")
        Duration retention();

        /** Most bytes of recorded answers kept (their serialized size); beyond it the least used go first. */
        @WithDefault("67108864")
        long maxBytes();
    }

    /**
     * How BATCH-class model calls are grouped into provider batches (OpenAI Batch, Anthropic Message Batches) for
     * models whose catalog entry has batch prices.
     */
    interface Batch {
        /** A model's batch is submitted once this many calls wait (the providers accept tens of thousands). */
        @WithDefault("500")
        int maxItems();

        /** Or this long after the first of them arrived. */
        @WithDefault("60s")
        Duration maxWait();

        /** How often a submitted batch is polled. */
        @WithDefault("60s")
        Duration pollInterval();

        /** How many times an errored item is submitted again (in the next batch) before its step fails. */
        @WithDefault("3")
        int retryLimit();

        /**
         * How long an ended batch stays in the journal with its keyed items' answers: a repeat of a key within it is
         * answered from the record instead of a new provider item. It must outlast the repeat of a batch-class call,
         * which may come hours later (the task's batch window).
         */
        @WithDefault("24h")
        Duration retention();

        /**
         * How long this replica's claim on the journaled batches it polls lasts; renewed every poll interval. A batch
         * whose claim lapsed (its replica is gone) is polled on by the next replica that looks (PostgreSQL journal).
         */
        @WithDefault("5m")
        Duration claimLease();

        /**
         * The name this replica claims its batches under in the journal; a restart under the same name polls its
         * batches on at once. Unset: the host name and HTTP port (in Kubernetes the pod's name).
         */
        Optional<String> owner();
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
