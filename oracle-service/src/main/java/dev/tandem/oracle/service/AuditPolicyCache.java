package dev.tandem.oracle.service;

import dev.tandem.audit.policy.DecisionPolicy;
import dev.tandem.audit.policy.DecisionRule;
import dev.tandem.audit.policy.PolicyDecision;
import dev.tandem.audit.policy.PolicyInput;
import dev.tandem.oracle.client.AuditClient;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.mapping.AuditPolicyProtos;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.GetPoliciesResponse;
import dev.tandem.proto.audit.v1.LocalDecision;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamPolicy;
import dev.tandem.proto.audit.v1.WatchPoliciesResponse;
import io.grpc.Status;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.vertx.http.HttpServerStart;
import io.quarkus.vertx.http.HttpsServerStart;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import org.jboss.logging.Logger;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The audit service's published stream policies and the local decision under them, by the audit's own rule
 * ({@link DecisionRule}).
 * <p>
 * The policies come from a WatchPolicies subscription: the full set when it starts, then each stream's new policy
 * version as the audit service takes it in, and a heartbeat every few seconds. When the subscription ends it is
 * started again after a back-off ({@code policy-watch-backoff}, doubling up to {@code policy-watch-backoff-max}),
 * and the policies held meanwhile stay usable until nothing was heard for {@code policy-max-age}. An audit service
 * without WatchPolicies (UNIMPLEMENTED, an older version) is polled with GetPolicies every {@code policy-refresh}
 * instead, and offered the watch again every {@code policy-watch-backoff-max}; with {@code policy-watch=false} every
 * audit service is polled.
 * <p>
 * A stream with no published policy (new: its first output creates it in probation, and the watch then delivers
 * its policy) is decided remotely with Decide; so is every stream when nothing was heard within
 * {@code policy-max-age} or local decisions are switched off. A policy a change behind is not a risk to the
 * guarantee: RecordDecisions re-decides every decision under the current policy and the oracle acts on that
 * answer. A stream whose published version has not changed for {@code policy-stable-for} is "settled": only then
 * may an output other steps read wait for the task's batch (a policy that changes while a task runs would
 * otherwise turn such outputs into reviews after they were used).
 */
@ApplicationScoped
public class AuditPolicyCache {

    private static final Logger LOG = Logger.getLogger(AuditPolicyCache.class);

    /**
     * One consistent view: the policies with the seed and tenant rule they were published with, and since when
     * (System.nanoTime()) each stream's version has been held unchanged.
     */
    private record Snapshot(Map<StreamKey, DecisionPolicy> policies, Map<StreamKey, Long> unchangedSince, String seed,
            List<String> tenantStreams) {
    }

    /** A local decision and whether its stream's policy has been unchanged for {@code policy-stable-for}. */
    public record Local(LocalDecision decision, boolean settledPolicy) {
    }

    private final AuditClient client;
    private final OracleConfig config;
    private final ScheduledExecutorService resubscriptions = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("audit-policy-watch").factory());

    private volatile Snapshot snapshot;
    /** When the audit service last told us something (a watch message, heartbeats included, or GetPolicies). */
    private volatile long lastHeardNanos;
    /** A subscription has delivered its full set and has not ended: what it holds is current as of now. */
    private volatile boolean watching;
    /** The audit service has no WatchPolicies, or the watch is switched off: GetPolicies every policy-refresh. */
    private volatile boolean polling;
    private volatile boolean stopped;

    // guarded by this: the current subscription (messages of an earlier one are ignored by its generation)
    private boolean started;
    private long generation;
    private Runnable subscription;
    private ScheduledFuture<?> resubscription;
    private int failures;

    public AuditPolicyCache(AuditClient client, OracleConfig config) {
        this.client = client;
        this.config = config;
    }

    // once the server listens, not at StartupEvent: the first call creates the audit client's channel, which reads
    // its port then (in tests the random test port, known only once the server is bound). Quarkus fires these events
    // with fireAsync, which notifies asynchronous observers only: a plain @Observes here was never called, and the
    // packaged oracle decided every output remotely (the tests' clear() had started the watch instead).
    void httpStarted(@ObservesAsync HttpServerStart event) {
        start();
    }

    void httpsStarted(@ObservesAsync HttpsServerStart event) {
        start();
    }

    private synchronized void start() {
        if (!config.audit().localDecisions() || started) {
            return;
        }
        started = true;
        if (config.audit().policyWatch()) {
            subscribe();
        } else {
            polling = true;
        }
    }

    void stop(@Observes ShutdownEvent event) {
        stopped = true;
        synchronized (this) {
            cancelSubscription();
        }
        resubscriptions.shutdownNow();
    }

    @Scheduled(every = "${tandem.oracle.audit.policy-refresh}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduledRefresh() {
        if (config.audit().localDecisions() && polling) {
            refresh();
        }
    }

    /** Whether a WatchPolicies subscription is delivering the policies now. */
    public boolean watching() {
        return watching;
    }

    /** Whether the policies are read with GetPolicies every policy-refresh (no watch offered, or switched off). */
    public boolean polling() {
        return polling;
    }

    /** Reads the whole set with GetPolicies; keeps the last one when the audit service cannot be reached. */
    public boolean refresh() {
        GetPoliciesResponse published;
        try {
            published = client.getPolicies(null);
        } catch (RuntimeException e) {
            LOG.debugf("audit policies not refreshed: %s", e.getMessage());
            return false;
        }
        synchronized (this) {
            replace(published.getPoliciesList(), published.getSamplingSeed(), published.getTenantStreamsList());
        }
        return true;
    }

    /**
     * Forgets every policy: decisions go to Decide until a full set arrives again (the watch is started anew for
     * one, after the back-off; when polling, the next GetPolicies).
     */
    public void clear() {
        synchronized (this) {
            snapshot = null;
            if (!polling && !stopped && config.audit().localDecisions() && config.audit().policyWatch()) {
                cancelSubscription();
                scheduleResubscription();
            }
        }
    }

    /**
     * The decision under the stream's published policy, with what RecordDecisions needs to check it; empty when
     * it must be taken remotely (switched off, nothing heard from the audit service within policy-max-age, or no
     * policy for the stream yet).
     */
    public Optional<Local> decide(DecideRequest request) {
        Snapshot s = snapshot;
        long now = System.nanoTime();
        long heard = lastHeardNanos;
        if (!config.audit().localDecisions() || s == null || now - heard > config.audit().policyMaxAge().toNanos()) {
            return Optional.empty();
        }
        StreamKey stream = AuditPolicyProtos.streamOf(request.getStream(), s.tenantStreams());
        DecisionPolicy policy = s.policies().get(stream);
        if (policy == null) {
            return Optional.empty();
        }
        // a live watch would have told us of a change by now; a poll (or a broken watch) only as of its last read
        long asOf = watching ? now : heard;
        boolean settled = asOf - s.unchangedSince().get(stream) >= config.audit().policyStableFor().toNanos();
        PolicyDecision d = DecisionRule.decide(new PolicyInput(request.getDecisionId(),
                request.hasConfidence() ? request.getConfidence() : null, request.getRawConfidence(),
                request.getValidationPassed()), policy, s.seed());
        return Optional.of(new Local(LocalDecision.newBuilder().setRequest(request)
                .setPolicyVersion(policy.version()).setDraw(d.draw()).setAction(AuditPolicyProtos.action(d))
                .setReason(AuditPolicyProtos.reason(d)).setMode(AuditPolicyProtos.mode(d)).build(), settled));
    }

    private synchronized void subscribe() {
        if (stopped) {
            return;
        }
        resubscription = null;
        long current = ++generation;
        watching = false;
        try {
            subscription = client.watchPolicies(message -> onMessage(current, message),
                    failure -> onEnd(current, failure));
        } catch (RuntimeException e) {
            onEnd(current, e); // the channel is shut down, say: tried again after the back-off
        }
    }

    private synchronized void onMessage(long of, WatchPoliciesResponse message) {
        if (of != generation) {
            return;
        }
        if (message.getFullSet()) {
            replace(message.getPoliciesList(), message.getSamplingSeed(), message.getTenantStreamsList());
            if (!watching) {
                LOG.debugf("watching the audit service's policies: %d streams", message.getPoliciesCount());
            }
            watching = true;
            polling = false;
            failures = 0;
            return;
        }
        Snapshot s = snapshot;
        lastHeardNanos = System.nanoTime();
        if (message.getPoliciesCount() == 0 || s == null) {
            return; // a heartbeat; or nothing to update before a full set
        }
        long now = lastHeardNanos;
        Map<StreamKey, DecisionPolicy> policies = new HashMap<>(s.policies());
        Map<StreamKey, Long> since = new HashMap<>(s.unchangedSince());
        for (StreamPolicy p : message.getPoliciesList()) {
            DecisionPolicy held = policies.get(p.getStream());
            // a change heard twice (in the full set and as it happened) or out of order keeps the newer version
            if (held == null || p.getPolicyVersion() > held.version()) {
                policies.put(p.getStream(), AuditPolicyProtos.fromProto(p));
                since.put(p.getStream(), now);
            }
        }
        snapshot = new Snapshot(Map.copyOf(policies), Map.copyOf(since), message.getSamplingSeed(),
                List.copyOf(message.getTenantStreamsList()));
    }

    private synchronized void onEnd(long of, Throwable failure) {
        if (of != generation || stopped) {
            return;
        }
        watching = false;
        subscription = null;
        if (failure != null && Status.fromThrowable(failure).getCode() == Status.Code.UNIMPLEMENTED) {
            if (!polling) {
                LOG.infof("the audit service does not offer WatchPolicies: reading its policies with GetPolicies "
                        + "every %s, and trying the watch again every %s", config.audit().policyRefresh(),
                        config.audit().policyWatchBackoffMax());
            }
            polling = true;
            // an upgraded audit service offers it: one cheap call per back-off-max finds out
            try {
                resubscription = resubscriptions.schedule(this::subscribe,
                        config.audit().policyWatchBackoffMax().toMillis(), TimeUnit.MILLISECONDS);
            } catch (RuntimeException e) {
                LOG.debugf("audit policy watch not resubscribed: %s", e.getMessage()); // shutting down
            }
            return;
        }
        LOG.debugf("the audit policy watch ended (%s); subscribing again", failure == null ? "completed"
                : Status.fromThrowable(failure));
        scheduleResubscription();
    }

    private void cancelSubscription() {
        generation++;
        watching = false;
        if (subscription != null) {
            subscription.run();
            subscription = null;
        }
    }

    /** After policy-watch-backoff × 2^(failures in a row), at most policy-watch-backoff-max, ± 20 %. */
    private void scheduleResubscription() {
        if (resubscription != null || stopped) {
            return;
        }
        long base = config.audit().policyWatchBackoff().toMillis();
        long max = config.audit().policyWatchBackoffMax().toMillis();
        long delay = Math.min(max, base << Math.min(failures, 20));
        failures++;
        delay = (long) (delay * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
        try {
            resubscription = resubscriptions.schedule(this::subscribe, delay, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            LOG.debugf("audit policy watch not resubscribed: %s", e.getMessage()); // shutting down
        }
    }

    /** A full set: replaces what is held, keeping since when each unchanged version has been held. */
    private void replace(List<StreamPolicy> published, String seed, List<String> tenantStreams) {
        long now = System.nanoTime();
        Snapshot previous = snapshot;
        Map<StreamKey, DecisionPolicy> policies = new HashMap<>();
        Map<StreamKey, Long> since = new HashMap<>();
        for (StreamPolicy p : published) {
            DecisionPolicy policy = AuditPolicyProtos.fromProto(p);
            policies.put(p.getStream(), policy);
            DecisionPolicy before = previous == null ? null : previous.policies().get(p.getStream());
            since.put(p.getStream(), before != null && before.version() == policy.version()
                    ? previous.unchangedSince().get(p.getStream()) : now);
        }
        snapshot = new Snapshot(Map.copyOf(policies), Map.copyOf(since), seed, List.copyOf(tenantStreams));
        lastHeardNanos = now;
    }
}
