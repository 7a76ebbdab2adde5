package dev.tandem.router.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The router's configuration: the model catalog, the worker pools and the selection and dispatch policy.
 * The catalog is read once at start into an immutable snapshot ({@code CatalogHolder}); issue 4 swaps it at run time.
 */
@ConfigMapping(prefix = "tandem.router")
public interface RouterConfig {

    /** Models of the catalog by id. */
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

    /** One model of the catalog. */
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

        /** Models the pool serves. */
        List<String> models();

        /** Declared concurrency: requests in flight at most. */
        @WithDefault("32")
        int capacity();

        /** GPU class, unset for CPU pools. */
        Optional<String> gpu();

        /** Plaintext (no TLS) to the pool; TLS uses the JVM's trust store. */
        @WithDefault("true")
        boolean plaintext();
    }

    interface Quality {
        /** Verdicts needed before the measured accept rate replaces the prior. */
        @WithDefault("20")
        int minSamples();

        /** z of the one-sided Wilson lower bound on the accept rate (1.645 = 95 %). */
        @WithDefault("1.645")
        double confidenceZ();
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
}
