package dev.tandem.oracle.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Configuration of the oracle service, under {@code tandem.oracle}. */
@ConfigMapping(prefix = "tandem.oracle")
public interface OracleConfig {

    /** Largest plan accepted, in steps. */
    @WithDefault("32")
    int maxSteps();

    /** Model id of the oracle: reviews, escalations and the all-oracle cost baseline are priced on it. */
    @WithDefault("embedded-bge-oracle")
    String oracleModel();

    /** Optional directory of extra pipeline JSON files, added to (or replacing by name) the shipped ones. */
    Optional<String> pipelinesDir();

    /** Timeout of a downstream call when the client's call carries no deadline. */
    @WithDefault("30s")
    Duration downstreamTimeout();

    Planner planner();

    Synthesizer synthesizer();

    Router router();

    Audit audit();

    Tasks tasks();

    Access access();

    Limits limits();

    Batch batch();

    /** BATCH-class tasks (SubmitTask with latency_class BATCH). */
    interface Batch {
        /**
         * The longest batch deadline a task may ask for, and the deadline of one that asks for none: the providers'
         * batch window (OpenAI and Anthropic complete or expire a batch within 24 hours).
         */
        @WithDefault("24h")
        Duration maxDeadline();
    }

    /** How clients of the public API authenticate, and who may read every tenant's tasks. */
    interface Access {
        /** {@code none}: the request's tenant is trusted (local use); {@code api-key}: a key decides the tenant. */
        @WithDefault("none")
        AuthMode auth();

        /**
         * API keys by tenant, as lower-case SHA-256 hex digests of the keys (comma-separated for several keys): a
         * leaked configuration does not leak the keys. {@code echo -n "$KEY" | sha256sum} gives the digest.
         */
        Map<String, List<String>> apiKeys();

        /** A file of {@code <tenant> <sha256-hex>} lines (a mounted Secret), read at start and when it changes. */
        Optional<String> apiKeysFile();

        /** Tenants whose keys may read every tenant's tasks on the admin endpoints. */
        Optional<List<String>> adminTenants();
    }

    enum AuthMode {
        NONE, API_KEY
    }

    /** Per-tenant rate limits and request bounds of the public API. */
    interface Limits {
        /** Tasks a tenant may start in any rolling window ({@code 0} for no limit). */
        @WithDefault("1200")
        int tasksPerWindow();

        /** The rate-limit window. */
        @WithDefault("1m")
        Duration window();

        /** Per-tenant overrides of {@code tasks-per-window}. */
        Map<String, Integer> tenantTasksPerWindow();

        /**
         * Tasks this replica runs at once, all tenants together ({@code 0} for no limit); more are refused with
         * RESOURCE_EXHAUSTED at once instead of queueing until memory runs out.
         */
        @WithDefault("512")
        int maxTasksInFlight();

        /** Longest task text, in characters. */
        @WithDefault("4000")
        int maxTaskChars();

        /** Most named inputs a task may have. */
        @WithDefault("64")
        int maxInputs();

        /** Most characters in all inputs of a task together. */
        @WithDefault("200000")
        int maxInputChars();

        /**
         * Most characters in a step's inputs once their references are substituted (the request's inputs, the
         * outputs of the steps it reads): a few KB of plan repeating a reference multiplied a 200,000-character
         * input into gigabytes.
         */
        @WithDefault("1000000")
        int maxStepInputChars();
    }

    interface Planner {
        /** Encoder the embedded planner matches task text to pipelines with. */
        @WithDefault("all-minilm-l6-v2-q")
        String encoder();

        /**
         * Load the planner's encoder and embed the catalog at start-up instead of for the first task that names no
         * pipeline: that task then does not wait the few seconds of loading, but every replica holds the encoder's
         * ONNX session (tens of MB of native memory) even when its clients name pipelines or send plans.
         */
        @WithDefault("false")
        boolean preloadEncoder();

        /** Lowest cosine similarity between task and pipeline that still counts as a match. */
        @WithDefault("0.40")
        double minSimilarity();

        /** How often a model-made plan that fails validation is sent back for repair before giving up. */
        @WithDefault("2")
        int repairAttempts();

        /**
         * A chat model of the model catalog ({@code tandem.catalog.models.*}) that plans freely (an LLM oracle); unset: the embedded planner
         * picks a pipeline of the catalog.
         */
        Optional<String> model();

        /** Token limit of one planning answer. */
        @WithDefault("2048")
        int maxOutputTokens();
    }

    interface Synthesizer {
        /**
         * A chat model of the model catalog ({@code tandem.catalog.models.*}) that writes the answer from the step outputs, streamed to the
         * client; unset: the step outputs are merged into one JSON object.
         */
        Optional<String> model();

        /** Token limit of the answer. */
        @WithDefault("1024")
        int maxOutputTokens();
    }

    interface Router {
        /** How long the worker types and the catalog read from the router are trusted before re-reading. */
        @WithDefault("30s")
        Duration cacheTtl();

        /**
         * The keyed calls of one task (a submitted task's Dispatch, Review and CancelCalls) go to one router replica:
         * the router client balances with ring_hash on a digest of tenant and task id ({@code TaskAffinity}), so a
         * resumed task's repeat reaches the replica holding the first call. Off: the client's
         * {@code load-balancing-policy} (round_robin in the manifests) spreads every call.
         */
        @WithDefault("true")
        boolean taskAffinity();

        /**
         * How often a keyed Dispatch or Review (a submitted task's: it carries an idempotency key) is sent again when
         * it fails UNAVAILABLE, as it does when its router replica went away mid-call (killed, or cut by a shutdown
         * that outlasted its grace): the repeat reaches a replica still up, and the keys make it the same call, paid
         * once (router README, Keyed calls). 0: not repeated. An unkeyed call is never repeated here.
         */
        @WithDefault("3")
        int keyedCallRepeats();

        /**
         * The pause before a keyed call's repeat (a random jitter of up to half of it is added or taken off): the
         * repeats span about a second, the time a channel takes to see a replica gone and move its calls on.
         */
        @WithDefault("200ms")
        Duration keyedCallRepeatDelay();
    }

    interface Audit {
        /** Decisions and verdicts kept for re-sending while the audit service is unavailable. */
        @WithDefault("10000")
        int pendingCapacity();

        /** How often pending decisions and verdicts are re-sent ("off" to disable); read by the scheduler. */
        @WithDefault("10s")
        String reconcileEvery();

        /**
         * Decide locally: the oracle takes the audit decision itself, by the audit service's rule (module
         * audit-policy) under the policies it publishes, and records a task's decisions in one RecordDecisions
         * batch before the answer is released; false: one Decide call per step.
         */
        @WithDefault("true")
        boolean localDecisions();

        /**
         * Keep the published policies current with a WatchPolicies subscription (changes arrive as the audit service
         * makes them); false, or an audit service without WatchPolicies: re-read them every {@link #policyRefresh()}.
         */
        @WithDefault("true")
        boolean policyWatch();

        /** Wait before subscribing again after the watch ended; doubles with each failure in a row. */
        @WithDefault("200ms")
        Duration policyWatchBackoff();

        /** Longest wait between attempts to subscribe again. */
        @WithDefault("10s")
        Duration policyWatchBackoffMax();

        /**
         * How often the published policies are re-read with GetPolicies when they are not watched ("off" to
         * disable); read by the scheduler.
         */
        @WithDefault("1s")
        String policyRefresh();

        /**
         * Policies are used for this long after the audit service was last heard from (a watch message, heartbeats
         * included, or a GetPolicies answer); after that decisions go to Decide again.
         */
        @WithDefault("30s")
        Duration policyMaxAge();

        /**
         * How long a stream's published policy must have been unchanged before an output other steps read may
         * wait for the task's batch; under a policy that changes more often such outputs are stored before use.
         */
        @WithDefault("10s")
        Duration policyStableFor();
    }

    interface Tasks {
        /** Recent tasks kept in memory for the admin endpoints. */
        @WithDefault("200")
        int retained();

        /** Submitted tasks (SubmitTask), stored in PostgreSQL and run in the background. */
        Submitted submitted();
    }

    interface Submitted {
        /** Whether this replica runs submitted tasks ({@code false}: it only accepts and serves them). */
        @WithDefault("true")
        boolean run();

        /** Submitted tasks this replica runs at once; more wait QUEUED. */
        @WithDefault("16")
        int maxRunning();

        /**
         * How long a replica's claim on a running task holds without renewal (renewed every third of it): a task
         * whose replica died resumes on another one (or on the same one restarted) once its lease has expired.
         */
        @WithDefault("30s")
        Duration lease();

        /** How often an idle replica looks for queued tasks (a submission on the same replica wakes it at once). */
        @WithDefault("1s")
        Duration pollInterval();

        /** How often WatchTask looks for new events of a task running on another replica. */
        @WithDefault("250ms")
        Duration watchPollInterval();

        /**
         * How long a stopping replica waits for its running tasks to finish before it hands them back to the queue
         * (their steps in flight then run again where they resume).
         */
        @WithDefault("10s")
        Duration shutdownGrace();

        /** Identifies this replica in leases; default: the host name (the pod name) and a random suffix. */
        Optional<String> replicaId();

        /**
         * Whether a submitted task's router calls carry idempotency keys (task/step/purpose), so that the calls a
         * run had in flight when its replica died are joined or answered from the router's record when the task
         * resumes, not executed and paid again. Off: every resumed step is dispatched (and paid) again; for
         * comparison (the restart benchmark's baseline).
         */
        @WithDefault("true")
        boolean keyedCalls();

        /**
         * How long a finished task (succeeded, failed or cancelled) is kept, with its steps and events, before it
         * is deleted; an idempotency key is remembered as long as its task is.
         */
        @WithDefault("720h")
        Duration retention();

        /** How often a replica deletes the finished tasks past {@link #retention()}. */
        @WithDefault("1h")
        String retentionCheck();
    }
}
