package dev.tandem.audit.service;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.DecisionRepository.NewDecision;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.LedgerUnavailableException;
import dev.tandem.audit.repository.StateChangeRepository;
import dev.tandem.audit.repository.StreamRepository;

/**
 * Decide: one output judged under its stream's cached policy and written durably to the ledger through the group
 * commit ({@link DecisionWriter}); a stream seen for the first time is created in probation.
 *
 * <p>Writes are retried on ledger failures (idempotent on decision_id, so a retry cannot double-count) but have no
 * fallback: an answer that is not in the ledger must not be acknowledged. The caller (the oracle) owns the
 * fail-safe policy when the audit service is unavailable.
 */
@ApplicationScoped
public class DecisionService {

    private static final Logger LOG = Logger.getLogger(DecisionService.class);

    private final Ledger ledger;
    private final StreamRepository streams;
    private final StateChangeRepository stateChanges;
    private final AuditPolicy auditPolicy;
    private final TrustPolicy trustPolicy;
    private final DecisionWriter writer;
    private final StreamPolicies policies;
    private final AuditMetrics metrics;
    private final AuditConfig config;

    public DecisionService(Ledger ledger, StreamRepository streams, StateChangeRepository stateChanges,
            AuditPolicy auditPolicy, TrustPolicy trustPolicy, DecisionWriter writer, StreamPolicies policies,
            AuditMetrics metrics, AuditConfig config) {
        this.ledger = ledger;
        this.streams = streams;
        this.stateChanges = stateChanges;
        this.auditPolicy = auditPolicy;
        this.trustPolicy = trustPolicy;
        this.writer = writer;
        this.policies = policies;
        this.metrics = metrics;
        this.config = config;
    }

    /** The stream an output belongs to: its tenant's own, when that tenant has streams, else the shared one. */
    public StreamKey streamOf(StreamKey requested) {
        List<String> own = config.streams().tenantStreams().orElse(List.of());
        boolean separate = !requested.tenant().isEmpty() && (own.contains("*") || own.contains(requested.tenant()));
        return separate ? requested : new StreamKey(requested.workerBackend(), requested.workerType(), "");
    }

    /** Decides on one output; the decision is committed before this returns. A replay returns the stored one. */
    public DecideOutcome decide(DecisionRequest asked) {
        try {
            return decideAsync(asked).join();
        } catch (CompletionException e) {
            Throwable cause = unwrap(e);
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new LedgerUnavailableException("decision write failed: " + cause, cause);
        }
    }

    /**
     * Decides on one output and queues it for the next group commit; completes once the decision is committed
     * (a replay completes with the stored one). No thread waits for the commit, and with the stream's policy
     * cached nothing blocks, so this runs on the gRPC event loop; a stream not cached yet is read (or created) on
     * a virtual thread. A failed attempt is retried twice, 50 ± 25 ms apart (the decision id makes a retry
     * idempotent); a decision not committed within 5 s is withdrawn and fails with {@link LedgerBusyException},
     * not retried: a retry would only queue behind the same backlog.
     */
    public CompletableFuture<DecideOutcome> decideAsync(DecisionRequest asked) {
        try {
            RequestValidation.check(asked, config.ledger().maxPayloadBytes());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return withRetries(asked, System.nanoTime(), DECIDE_RETRIES);
    }

    private static final int DECIDE_RETRIES = 2;
    private static final long DECIDE_TIMEOUT_MS = 5000;

    /** Retries and blocking reads run here: virtual threads, so neither ties up the event loop nor a pool. */
    private static final Executor VIRTUAL = command -> Thread.ofVirtual().name("audit-decide").start(command);

    private CompletableFuture<DecideOutcome> withRetries(DecisionRequest asked, long started, int retriesLeft) {
        CompletableFuture<DecideOutcome> attempt;
        try {
            attempt = attempt(asked, started);
        } catch (RuntimeException e) {
            attempt = CompletableFuture.failedFuture(e);
        }
        return attempt.handle((outcome, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(outcome);
            }
            Throwable cause = unwrap(failure);
            if (retriesLeft > 0 && cause instanceof LedgerUnavailableException
                    && !(cause instanceof LedgerBusyException)) {
                LOG.debugf("decision %s: retrying after %s", asked.decisionId(), cause.getMessage());
                long delay = 25 + ThreadLocalRandom.current().nextLong(51);
                return CompletableFuture.supplyAsync(() -> withRetries(asked, started, retriesLeft - 1),
                        CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS, VIRTUAL))
                        .thenCompose(f -> f);
            }
            return CompletableFuture.<DecideOutcome>failedFuture(cause);
        }).thenCompose(f -> f);
    }

    private CompletableFuture<DecideOutcome> attempt(DecisionRequest asked, long started) {
        DecisionRequest request = asked.withStream(streamOf(asked.stream()));
        StreamRecord cached = policies.get(request.stream());
        if (cached != null) {
            return attempt(asked, request, cached, started);
        }
        return CompletableFuture.supplyAsync(() -> policy(request.stream()), VIRTUAL)
                .thenCompose(policy -> attempt(asked, request, policy, started));
    }

    private CompletableFuture<DecideOutcome> attempt(DecisionRequest asked, DecisionRequest onStream,
            StreamRecord policy, long started) {
        Decision decision = auditPolicy.decide(onStream, policy);
        // the ledger records the one calibrated value: the router's, as sent, or the stream's map applied here
        DecisionRequest request = onStream.withConfidence(decision.calibratedConfidence());
        double increment = Double.NaN;
        if (policy.confidenceReference() != null
                && (policy.state() == TrustState.NORMAL || policy.state() == TrustState.REDUCED)) {
            AuditConfig.Drift drift = config.drift();
            increment = DriftDetectors.confidenceIncrement(request.rawConfidence(), policy.confidenceReference(),
                    drift.confidenceQuantile(), drift.confidenceShiftedShare());
        }
        ReviewQueue queue = null;
        String note = "";
        if (decision.mode() == ReviewMode.SHADOW) {
            if (!request.hasPayload()) {
                queue = ReviewQueue.HUMAN;
                note = "no candidate output was sent with the decision, so the model cannot review it";
            } else if (config.review().humanWorkerTypes().orElse(List.of()).contains(request.stream().workerType())) {
                queue = ReviewQueue.HUMAN;
                note = "worker type " + request.stream().workerType() + " is reviewed by people";
            } else {
                queue = ReviewQueue.MODEL;
            }
        }
        CompletableFuture<DecisionWriter.Written> pending = writer.submit(
                new NewDecision(request, decision, asked.stream().tenant()), policy, increment, queue, note);
        // Completing it on time-out also withdraws it: the writer skips entries that are already done.
        pending.completeOnTimeout(null, DECIDE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        return pending.thenApply(written -> {
            if (written == null) {
                throw new LedgerBusyException("the ledger did not commit the decision within 5 s (group-commit "
                        + "backlog " + writer.backlog() + ")", null);
            }
            return answered(request, decision, written, started);
        });
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private DecideOutcome answered(DecisionRequest request, Decision decision, DecisionWriter.Written written,
            long started) {
        metrics.decideTimer().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        if (written.inserted()) {
            metrics.decided(request.stream(), decision.action(), decision.reason());
            LOG.debugf("decision %s on %s: %s %s", request.decisionId(), request.stream(), decision.action(),
                    decision.reason());
            return new DecideOutcome(request.decisionId(), decision, false);
        }
        DecisionEntry stored = written.stored();
        if (!stored.request().stream().equals(request.stream())) {
            LOG.warnf("decision id %s (task %s) replayed for stream %s but stored for %s: returning the stored "
                    + "decision", request.decisionId(), request.taskId(), request.stream(), stored.request().stream());
        }
        return new DecideOutcome(request.decisionId(), stored.decision(), true);
    }

    /** The cached policy of a stream, read (or the stream created) on first use. */
    private StreamRecord policy(StreamKey key) {
        StreamRecord cached = policies.get(key);
        if (cached != null) {
            return cached;
        }
        StreamRecord loaded = ledger.withConnection(c -> {
            StreamRecord s = streams.find(c, key).orElse(null);
            return s != null ? s : createStream(c, key);
        });
        policies.put(loaded);
        metrics.observe(loaded);
        return loaded;
    }

    /** A new stream starts in probation; the creation is a state change like any other. */
    private StreamRecord createStream(Connection c, StreamKey key) throws SQLException {
        StreamRecord fresh = trustPolicy.newStream(key, Instant.now().truncatedTo(ChronoUnit.MICROS));
        boolean created = Ledger.inTransaction(c, tx -> {
            boolean inserted = streams.insertIfAbsent(tx, fresh);
            if (inserted) {
                stateChanges.insert(tx, key, null, fresh.state(), "new stream: every output is reviewed", null);
            }
            return inserted;
        });
        if (created) {
            metrics.stateChanged(null, fresh.state());
            LOG.infof("stream %s created in %s", key, fresh.state());
        }
        // Another request or replica may have created it first: read what is stored.
        return streams.find(c, key).orElseThrow(() -> new SQLException("stream " + key + " was not created"));
    }
}
