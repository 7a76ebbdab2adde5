package dev.tandem.audit.service;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.LocalDecision;
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
import dev.tandem.grpc.FieldViolation;

/**
 * Decide: one output judged under its stream's cached policy and written durably to the ledger through the group
 * commit ({@link DecisionWriter}); a stream seen for the first time is created in probation.
 *
 * <p>Writes are retried on ledger failures (idempotent on decision_id, so a retry cannot double-count) but have no
 * fallback: an answer that is not in the ledger must not be acknowledged. The caller (the oracle) owns the
 * fail-safe policy when the audit service is unavailable.
 *
 * <p>RecordDecisions ({@link #recordAsync}) takes decisions the oracle took itself under published policies: each is
 * re-decided here under the stream's current policy by the same rule (so a decision taken under an older policy
 * version gets the current policy's answer, which is the one stored and returned) and then goes the same way as a
 * Decide: counters, drift increments, shadow review queue, metrics, the group commit.
 */
// A singleton, not @ApplicationScoped: injected as itself, without the client proxy whose context look-up on every
// call was about 4 % of the service's CPU on the Decide path at 5,000/s (issue 16).
@Singleton
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
        return withRetries(asked, null, System.nanoTime(), DECIDE_RETRIES);
    }

    /** Most decisions one RecordDecisions call may carry. */
    public static final int MAX_RECORD_BATCH = 1000;

    /**
     * Records a batch of decisions taken under published policies; completes, in request order, once every one is
     * committed (each re-decided under its stream's current policy; a replay completes with the stored decision).
     * Fails as a whole when any one fails: the caller retries the batch, and the decision ids keep a retry from
     * counting anything twice.
     */
    public CompletableFuture<List<DecideOutcome>> recordAsync(List<LocalDecision> batch) {
        try {
            checkBatch(batch);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        long started = System.nanoTime();
        List<CompletableFuture<DecideOutcome>> all = new ArrayList<>(batch.size());
        for (LocalDecision local : batch) {
            all.add(withRetries(local.request(), local, started, DECIDE_RETRIES));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .thenApply(done -> all.stream().map(CompletableFuture::join).toList());
    }

    private void checkBatch(List<LocalDecision> batch) {
        List<FieldViolation> violations = new ArrayList<>();
        if (batch.size() > MAX_RECORD_BATCH) {
            violations.add(new FieldViolation("decisions", "must hold at most " + MAX_RECORD_BATCH + " decisions"));
        }
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < batch.size(); i++) {
            LocalDecision local = batch.get(i);
            String prefix = "decisions[" + i + "].";
            try {
                RequestValidation.check(local.request(), config.ledger().maxPayloadBytes());
            } catch (InvalidAuditRequestException e) {
                e.violations().forEach(v -> violations.add(new FieldViolation(prefix + "request." + v.field(),
                        v.description())));
            }
            if (local.action() == null) {
                violations.add(new FieldViolation(prefix + "action", "must be AUDIT_ACTION_PASS or AUDIT_ACTION_REVIEW"));
            }
            if (local.request().decisionId() != null && !ids.add(local.request().decisionId())) {
                violations.add(new FieldViolation(prefix + "request.decision_id", "repeats an earlier decision of "
                        + "the batch"));
            }
        }
        if (!violations.isEmpty()) {
            throw new InvalidAuditRequestException(violations);
        }
    }

    private static final int DECIDE_RETRIES = 2;

    /** Retries and blocking reads run here: virtual threads, so neither ties up the event loop nor a pool. */
    private static final Executor VIRTUAL = command -> Thread.ofVirtual().name("audit-decide").start(command);

    private CompletableFuture<DecideOutcome> withRetries(DecisionRequest asked, LocalDecision local, long started,
            int retriesLeft) {
        CompletableFuture<DecideOutcome> attempt;
        try {
            attempt = attempt(asked, local, started);
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
                return CompletableFuture.supplyAsync(() -> withRetries(asked, local, started, retriesLeft - 1),
                        CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS, VIRTUAL))
                        .thenCompose(f -> f);
            }
            return CompletableFuture.<DecideOutcome>failedFuture(cause);
        }).thenCompose(f -> f);
    }

    private CompletableFuture<DecideOutcome> attempt(DecisionRequest asked, LocalDecision local, long started) {
        DecisionRequest request = asked.withStream(streamOf(asked.stream()));
        StreamRecord cached = policies.get(request.stream());
        if (cached != null && (local == null || local.policyVersion() <= cached.policyVersion())) {
            return attempt(asked, request, cached, started, local);
        }
        // not cached, or the caller saw a newer policy (published by another replica): read the stored one
        if (cached != null) {
            policies.invalidateIfOlder(request.stream(), local.policyVersion());
        }
        return CompletableFuture.supplyAsync(() -> policy(request.stream()), VIRTUAL)
                .thenCompose(policy -> attempt(asked, request, policy, started, local));
    }

    private CompletableFuture<DecideOutcome> attempt(DecisionRequest asked, DecisionRequest onStream,
            StreamRecord policy, long started, LocalDecision local) {
        Decision decided = auditPolicy.decide(onStream, policy);
        boolean redecided = local != null
                && (local.policyVersion() != policy.policyVersion() || !local.sameAs(decided));
        Decision decision = local == null ? decided : decided.withExplanation(decided.explanation()
                + (redecided ? String.format(Locale.ROOT, " Re-decided by the audit service under policy version "
                        + "%d (the oracle had decided %s under version %d).", policy.policyVersion(),
                        local.action().name().toLowerCase(Locale.ROOT), local.policyVersion())
                        : String.format(Locale.ROOT, " Decided locally by the oracle under policy version %d.",
                                policy.policyVersion())));
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
        // The writer completes it with null when it withdraws it, 5 s after it was queued (DecisionWriter).
        return pending.thenApply(written -> {
            if (written == null) {
                throw new LedgerBusyException("the ledger did not commit the decision within 5 s (group-commit "
                        + "backlog " + writer.backlog() + ")", null);
            }
            return answered(request, decision, written, started, redecided, policy.policyVersion());
        });
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private DecideOutcome answered(DecisionRequest request, Decision decision, DecisionWriter.Written written,
            long started, boolean redecided, long policyVersion) {
        metrics.decideTimer().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        if (written.inserted()) {
            metrics.decided(request.stream(), decision.action(), decision.reason());
            LOG.debugf("decision %s on %s: %s %s", request.decisionId(), request.stream(), decision.action(),
                    decision.reason());
            return new DecideOutcome(request.decisionId(), decision, false, redecided, policyVersion);
        }
        DecisionEntry stored = written.stored();
        if (!stored.request().stream().equals(request.stream())) {
            LOG.warnf("decision id %s (task %s) replayed for stream %s but stored for %s: returning the stored "
                    + "decision", request.decisionId(), request.taskId(), request.stream(), stored.request().stream());
        }
        return new DecideOutcome(request.decisionId(), stored.decision(), true);
    }

    /**
     * Every stored stream's policy, read from the ledger (so it includes other replicas' changes) and put in this
     * replica's cache, so a decision recorded under a published version finds that version or a newer one here.
     */
    public List<StreamRecord> publishedPolicies() {
        List<StreamRecord> all = ledger.withConnection(streams::findAll);
        all.forEach(policies::put);
        return all.stream().map(s -> {
            StreamRecord cached = policies.get(s.key());
            return cached != null ? cached : s;
        }).toList();
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
