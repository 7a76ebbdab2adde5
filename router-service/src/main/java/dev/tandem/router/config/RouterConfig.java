package dev.tandem.router.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The router's configuration: the model catalog, the worker pools and the selection and dispatch policy.
 * The models and pools here are the base of the catalog; a watched catalog directory and the admin API add to it at
 * run time ({@code CatalogSource}).
 * <p>
 * Long because it is the whole {@code tandem.router} surface as one {@code @ConfigMapping}, each group documented
 * where it is declared (the README's settings table follows it); splitting it would only split that reference.
 */
@ConfigMapping(prefix = "tandem.router")
public interface RouterConfig {

    /**
     * Deprecated, read for one more release: models by id, {@code tandem.router.models."<id>".*}; the model
     * catalog's entries ({@code tandem.catalog.models."<id>".*}, {@link ModelCatalogConfig}) replace them.
     */
    Map<String, ModelConfig> models();

    /** Worker pools by id. */
    Map<String, PoolConfig> pools();

    /** Model used for reviews, escalations and the all-oracle cost baseline. */
    @WithDefault("embedded-bge-oracle")
    String oracleModel();

    /** Quality a model must reach for a worker type (accept rate lower bound), by worker type. */
    Map<String, Double> qualityTarget();

    /** Quality target of worker types without their own entry. */
    @WithDefault("0.80")
    double defaultQualityTarget();

    Quality quality();

    Estimates estimates();

    Dispatch dispatch();

    CircuitBreaker circuitBreaker();

    Latency latency();

    WorkerTypes workerTypes();

    Audit audit();

    /** Tenant budgets by tenant id. */
    Map<String, TenantConfig> tenants();

    TenantBudget tenantBudget();

    CatalogSource catalog();

    Cascade cascade();

    Retry retry();

    RateLimit rateLimit();

    Hedging hedging();

    Exploration exploration();

    /** The exploration budget: how much streams still earning trust may cost over the oracle alone. */
    ExplorationBudget explorationBudget();

    LoadShedding loadShedding();

    Prediction prediction();

    Review review();

    Idempotency idempotency();

    /**
     * Keyed Dispatch and Review calls ({@code idempotency_key}): a repeat of a key joins the call in flight or gets
     * its recorded answer, so a caller that resumes after a restart does not pay for the call again.
     */
    interface Idempotency {
        /**
         * How long the answer of a keyed call is kept for a repeat of its key, from when it was answered. It must
         * outlast the time a resumed caller takes to ask again: the oracle's lease of a dead replica's tasks (30 s by
         * default) plus its start.
         */
        @WithDefault("15m")
        Duration retention();

        /** Most bytes of recorded answers kept (their serialized size); beyond it the least used go first. */
        @WithDefault("67108864")
        long maxBytes();
    }

    interface Review {
        /**
         * Answer a review of an output with that same model's verdict on itself without calling it, when no other
         * oracle-tier model can review: a model judging its own answer only repeats it.
         */
        @WithDefault("true")
        boolean skipSelfReview();
    }

    /** One model in the deprecated form {@code tandem.router.models."<id>".*}. */
    interface ModelConfig {
        ModelTier tier();

        @WithDefault("0")
        double inputUsdPerMtok();

        @WithDefault("0")
        double outputUsdPerMtok();

        /** Price of cached input tokens; the input price when unset. */
        Optional<Double> cachedInputUsdPerMtok();

        Optional<List<String>> capabilities();

        @WithDefault("8192")
        int contextTokens();

        Optional<List<String>> residencyTags();

        /** Worker types the model may serve; unset or empty for all. */
        Optional<List<String>> workerTypes();

        /** Quality assumed until enough audit verdicts are in, in [0, 1]. */
        @WithDefault("0.80")
        double priorQuality();
    }

    /** One worker pool: a worker-service deployment reachable at one gRPC target. */
    interface PoolConfig {
        /** gRPC target, for example {@code localhost:8082} or {@code dns:///worker-pool-a.tandem.svc:8082}. */
        String endpoint();

        /**
         * Deprecated, read for one more release: models the pool serves. A model's catalog entry names its pools
         * instead ({@code tandem.catalog.models."<id>".pools}); a pool that lists models serves exactly those.
         */
        Optional<List<String>> models();

        /** Declared concurrency: requests in flight at most. */
        @WithDefault("32")
        int capacity();

        /** GPU class, unset for CPU pools. */
        Optional<String> gpu();

        /** Plaintext (no TLS) to the pool; TLS uses the JVM's trust store. */
        @WithDefault("true")
        boolean plaintext();

        /** GPUs one replica uses for a call, for GPU-second pricing. */
        @WithDefault("1")
        int gpus();

        /** Price of one GPU-second in USD; 0 when the pool is not priced by GPU time. */
        @WithDefault("0")
        double usdPerGpuSecond();
    }

    interface Quality {
        /** Verdicts needed before the measured accept rate replaces the prior. */
        @WithDefault("20")
        int minSamples();

        /** z of the one-sided Wilson lower bound on the accept rate (1.645 = 95 %). */
        @WithDefault("1.645")
        double confidenceZ();

        /**
         * Verdicts the quality figure remembers per (worker type, model): older verdicts are scaled down as new
         * ones arrive, so a quality drop shows within about this many verdicts.
         */
        @WithDefault("500")
        int window();
    }

    interface Estimates {
        /** Characters per token when the input size is estimated from text. */
        @WithDefault("4")
        int charsPerToken();

        /** Output tokens expected by worker type, for cost estimates. */
        Map<String, Long> outputTokens();

        @WithDefault("200")
        long defaultOutputTokens();

        /** Input tokens assumed by a dry run without an estimate. */
        @WithDefault("500")
        long defaultInputTokens();

        /** Model seconds assumed for a GPU-priced backend with no measured latency yet. */
        @WithDefault("1.0")
        double defaultGpuSeconds();
    }

    interface Dispatch {
        /** Timeout of one attempt on one backend. */
        @WithDefault("30s")
        Duration attemptTimeout();

        /** Deadline of a whole dispatch when the caller sets none. */
        @WithDefault("120s")
        Duration defaultDeadline();

        /** Backends tried at most per dispatch (failover). */
        @WithDefault("3")
        int maxAttempts();
    }

    interface CircuitBreaker {
        @WithDefault("4")
        int requestVolumeThreshold();

        @WithDefault("0.5")
        double failureRatio();

        /** Time an open circuit waits before letting a trial request through. */
        @WithDefault("10s")
        Duration delay();

        @WithDefault("1")
        int successThreshold();
    }

    interface Latency {
        /** Recent calls per backend the p95 used for selection is computed over. */
        @WithDefault("128")
        int window();

        /** Calls needed before the p95 counts; fewer means unknown (allowed). */
        @WithDefault("5")
        int minSamples();
    }

    interface WorkerTypes {
        /** How long the worker types listed by a worker are cached. */
        @WithDefault("60s")
        Duration cacheTtl();
    }

    interface Audit {
        /** How often audit trust streams are polled for verdict counts (when an audit client is configured). */
        @WithDefault("30s")
        String pollInterval();
    }

    /** One tenant's spending limit. */
    interface TenantConfig {
        /** Most the tenant may spend per window, in USD. */
        double budgetUsd();

        /** Window of the limit; {@code tenant-budget.default-window} when unset. */
        Optional<Duration> window();
    }

    interface TenantBudget {
        /** Window of tenant limits that set none. */
        @WithDefault("24h")
        Duration defaultWindow();

        /** Limit of tenants without their own entry, in USD; unset means no limit. */
        Optional<Double> defaultBudgetUsd();

        /** File the spend is saved to (periodically and at shutdown) and restored from at start; unset keeps it in memory only. */
        Optional<String> stateFile();

        /** How often the spend is saved to the state file. */
        @WithDefault("30s")
        Duration saveInterval();
    }

    interface CatalogSource {
        /** Deprecated, read for one more release: {@code tandem.catalog.dir} is the catalog directory of every service. */
        Optional<String> dir();

        /** How often the directory is checked for changes. */
        @WithDefault("10s")
        Duration pollInterval();

        /** Whether the admin API may add, replace and remove models and pools at run time. */
        @WithDefault("true")
        boolean adminApi();
    }

    interface Cascade {
        /** Whether dispatches climb to a more capable tier when the output is not good enough. */
        @WithDefault("true")
        boolean enabled();

        /** Climb when a validation gate failed. */
        @WithDefault("true")
        boolean onValidationFailure();

        /** Calibrated confidence under which an output climbs, by worker type. */
        Map<String, Double> confidenceThreshold();

        /** Threshold of worker types without their own entry; 0 disables the confidence rule for them. */
        @WithDefault("0")
        double defaultConfidenceThreshold();
    }

    interface Retry {
        /** Retries of the same backend after a transient error (UNAVAILABLE, ABORTED) before failing over. */
        @WithDefault("1")
        int maxRetries();

        /** Delay before a retry. */
        @WithDefault("50ms")
        Duration delay();

        /** Random jitter added to or taken from the delay. */
        @WithDefault("40ms")
        Duration jitter();
    }

    interface RateLimit {
        /** How long a backend that answered RESOURCE_EXHAUSTED without a RetryInfo stays out of selection. */
        @WithDefault("1s")
        Duration defaultCooldown();

        /** Longest retry delay honoured from a backend's RetryInfo. */
        @WithDefault("5m")
        Duration maxCooldown();
    }

    interface Hedging {
        /** Tiers whose latency-critical steps (with a latency target) are hedged; empty disables hedging. */
        Optional<List<ModelTier>> tiers();

        /** Wait before the hedge when the backend's p95 is still unknown. */
        @WithDefault("250ms")
        Duration defaultDelay();

        /** Shortest wait before a hedge, whatever the p95. */
        @WithDefault("20ms")
        Duration minDelay();
    }

    interface Exploration {
        /**
         * Share of a worker type's dispatches that may go to a qualifying model with too few audit verdicts
         * (at most, never more); 0 disables exploration.
         */
        @WithDefault("0.05")
        double rate();
    }

    interface ExplorationBudget {
        /**
         * e: over every window of {@link #windowSteps()} steps of a worker type and tenant, the steps may cost at
         * most (1 + e) x what the oracle alone would have; 0 sends every step whose stream is not yet trusted (and
         * every step whose worst case would exceed the oracle's price) to the oracle.
         */
        @WithDefault("0.05")
        double share();

        /** W: steps per window. */
        @WithDefault("20")
        int windowSteps();

        /**
         * alpha: the steps of a trusted stream (normal or reduced, not building up) in flight are held together at
         * what their reviews and escalations exceed with at most this probability, at the streams' review and
         * rejection rates, instead of each at its worst case; 0 holds every step at its worst case.
         */
        @WithDefault("0.01")
        double trustedRisk();

        /**
         * The ceiling: whatever the trusted steps in flight turn out to cost (every one reviewed and rejected), a
         * window costs at most (1 + this) x the oracle alone; at least {@link #share()}.
         */
        @WithDefault("2.0")
        double ceilingShare();

        /** How long a dispatched step's reservation for its review waits for the review before it lapses. */
        @WithDefault("60s")
        Duration settleAfter();

        /**
         * Reviewed outputs a stream's projection must rest on before the stream may be retired from exploration for
         * a projected steady-state cost at or above the oracle's.
         */
        @WithDefault("40")
        int retireAfterSamples();

        /** First back-off of a retired stream; each further retirement doubles it. */
        @WithDefault("10m")
        Duration retireFor();

        /** Longest back-off. */
        @WithDefault("24h")
        Duration retireForMax();
    }

    interface LoadShedding {
        /** Retry delay suggested (google.rpc.RetryInfo) when a step is shed because every qualifying pool is full. */
        @WithDefault("1s")
        Duration retryAfter();
    }

    interface Prediction {
        /** Worker types routed by the prompt-level policy (nearest reviewed outcomes); empty for none. */
        Optional<List<String>> workerTypes();

        /** Embedded encoder of step inputs. */
        @WithDefault("all-minilm-l6-v2-q")
        String encoder();

        /** Neighbours a prediction averages over. */
        @WithDefault("24")
        int k();

        /** Reviewed outcomes a model needs for a worker type before its predictions are used. */
        @WithDefault("20")
        int minOutcomes();

        /** Outcomes kept per (worker type, model); the oldest go first. */
        @WithDefault("20000")
        int maxOutcomes();

        /** Weight, in outcomes, of the model's overall quality in each prediction (shrinkage toward it). */
        @WithDefault("4")
        double shrinkage();
    }
}
