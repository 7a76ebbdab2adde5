package dev.tandem.audit.service;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.quarkus.scheduler.Scheduled;

import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.DecisionFilter;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.StateChange;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.DecisionRepository;
import dev.tandem.audit.repository.DecisionRepository.NewDecision;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.ReviewTaskRepository;
import dev.tandem.audit.repository.StateChangeRepository;
import dev.tandem.audit.repository.StreamRepository;
import dev.tandem.grpc.FieldViolation;

/**
 * The audit service: decisions and verdicts written durably to the ledger, trust kept per stream, policies
 * refitted from the evidence.
 *
 * <p>Writes are retried on ledger failures (both are idempotent on decision_id, so a retry cannot double-count)
 * but have no fallback: an answer that is not in the ledger must not be acknowledged. The caller (the oracle) owns
 * the fail-safe policy when the audit service is unavailable.
 */
@ApplicationScoped
public class AuditLedgerService {

    private static final Logger LOG = Logger.getLogger(AuditLedgerService.class);

    private final Ledger ledger;
    private final StreamRepository streams;
    private final DecisionRepository decisions;
    private final StateChangeRepository stateChanges;
    private final ReviewTaskRepository tasks;
    private final AuditPolicy auditPolicy;
    private final TrustPolicy trustPolicy;
    private final PolicyFitter fitter;
    private final DecisionWriter writer;
    private final StreamPolicies policies;
    private final AuditMetrics metrics;
    private final AuditConfig config;
    private final OnboardingPriors onboarding;

    public AuditLedgerService(Ledger ledger, StreamRepository streams, DecisionRepository decisions,
            StateChangeRepository stateChanges, ReviewTaskRepository tasks, AuditPolicy auditPolicy,
            TrustPolicy trustPolicy, PolicyFitter fitter, DecisionWriter writer, StreamPolicies policies,
            AuditMetrics metrics, AuditConfig config, OnboardingPriors onboarding) {
        this.onboarding = onboarding;
        this.ledger = ledger;
        this.streams = streams;
        this.decisions = decisions;
        this.stateChanges = stateChanges;
        this.tasks = tasks;
        this.auditPolicy = auditPolicy;
        this.trustPolicy = trustPolicy;
        this.fitter = fitter;
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

    private CompletableFuture<DecideOutcome> attempt(DecisionRequest asked, DecisionRequest request,
            StreamRecord policy, long started) {
        Decision decision = auditPolicy.decide(request, policy);
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

    /** Records a verdict and applies the trust rules under the stream's row lock; committed before returning. */
    @Timeout(5000)
    @Retry(maxRetries = 2, delay = 50, jitter = 25, retryOn = LedgerUnavailableException.class)
    public VerdictOutcome recordVerdict(VerdictRequest verdict) {
        return recordVerdict(verdict, null);
    }

    /**
     * Records a verdict; with a claim token (review queue), refuses it when another reviewer holds a live lease on
     * the task.
     */
    public VerdictOutcome recordVerdict(VerdictRequest verdict, String claimToken) {
        RequestValidation.check(verdict);
        try {
            return recordVerdictLogged(verdict, claimToken);
        } finally {
            MDC.remove("taskId");
        }
    }

    private VerdictOutcome recordVerdictLogged(VerdictRequest verdict, String claimToken) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        TrustUpdate[] applied = new TrustUpdate[2];
        VerdictOutcome outcome = ledger.inTransaction(c -> {
            DecisionEntry entry = decisions.find(c, verdict.decisionId()).orElseThrow(
                    () -> new NotFoundException("decision " + verdict.decisionId() + " is not in the ledger"));
            if (!entry.request().taskId().isEmpty()) {
                MDC.put("taskId", entry.request().taskId()); // the verdict request carries no task id
            }
            StreamKey key = entry.request().stream();
            // Lock the stream first: concurrent verdicts on one stream (from any replica) then apply one by one,
            // and a racing retry of this same verdict sees the stored row below.
            StreamRecord stream = streams.findForUpdate(c, key)
                    .orElseThrow(() -> new SQLException("stream " + key + " of a stored decision is missing"));
            if (claimToken != null) {
                Optional<String[]> lease = tasks.lockLease(c, verdict.decisionId());
                if (lease.isPresent() && Boolean.parseBoolean(lease.get()[2]) && !claimToken.equals(lease.get()[0])) {
                    throw new LeaseHeldException("review of " + verdict.decisionId() + " is claimed by "
                            + lease.get()[1] + "; claim it again after its lease expires");
                }
            }
            if (!decisions.insertVerdictIfAbsent(c, verdict)) {
                var stored = decisions.findVerdict(c, verdict.decisionId()).orElseThrow();
                if (stored != verdict.verdict()) {
                    throw new ConflictingVerdictException("decision " + verdict.decisionId() + " already has verdict "
                            + stored + "; a verdict cannot be changed to " + verdict.verdict());
                }
                return new VerdictOutcome(true, stream);
            }
            tasks.delete(c, verdict.decisionId());
            TrustUpdate update = trustPolicy.apply(stream, verdict.verdict(), entry.decision().reason(),
                    entry.request().rawConfidence(), decisions.nextSeq(c), now, onboarding.forStream(key));
            StreamRecord next = update.stream();
            if (update.needsFit()) {
                next = fitter.fit(next, window(c, next), certificationSample(c, next), now);
            }
            streams.update(c, next);
            if (update.stateChanged()) {
                stateChanges.insert(c, key, update.previousState(), next.state(), update.changeReason(),
                        verdict.decisionId());
            }
            applied[0] = new TrustUpdate(next, update.previousState(), update.changeReason(), update.driftAlarm(),
                    false);
            return new VerdictOutcome(false, next);
        });
        metrics.observe(outcome.stream());
        if (!outcome.duplicate()) {
            policies.put(outcome.stream());
            metrics.verdict(verdict.verdict());
            TrustUpdate update = applied[0];
            if (update.stateChanged()) {
                metrics.stateChanged(update.previousState(), update.stream().state());
                if (update.driftAlarm() != null) {
                    metrics.driftAlarm(update.stream().key(), update.driftAlarm());
                }
                LOG.infof("stream %s: %s -> %s (%s)", update.stream().key(), update.previousState(),
                        update.stream().state(), update.changeReason());
            }
            LOG.debugf("verdict %s on %s: stream %s reviewed %d, rejected %d", verdict.verdict(),
                    verdict.decisionId(), outcome.stream().key(), outcome.stream().reviewed(),
                    outcome.stream().rejected());
        }
        return outcome;
    }

    /**
     * Refits one stream's policy from its evidence window (calibration, certified threshold, blocking rate,
     * estimates). The window is read without locks; the result is written only if the stream kept its state and
     * window meanwhile. A PROBATION or TIGHTENED stream whose window certifies a threshold then moves to NORMAL.
     */
    public Optional<StreamRecord> refit(StreamKey key) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        StreamRecord before = ledger.withConnection(c -> streams.find(c, key)).orElse(null);
        if (before == null) {
            return Optional.empty();
        }
        List<WindowEntry> window = ledger.withConnection(c -> window(c, before));
        List<WindowEntry> certification = ledger.withConnection(c -> certificationSample(c, before));
        StreamRecord fitted = fitter.fit(before, window, certification, now);
        TrustUpdate[] promoted = new TrustUpdate[1];
        StreamRecord written = ledger.inTransaction(c -> {
            if (!streams.updateFit(c, fitted, before.state(), before.windowSinceSeq())) {
                return null;
            }
            StreamRecord current = streams.findForUpdate(c, key).orElseThrow();
            TrustUpdate up = trustPolicy.afterFit(current, now);
            if (up != null) {
                streams.update(c, up.stream());
                stateChanges.insert(c, key, up.previousState(), up.stream().state(), up.changeReason(), null);
                promoted[0] = up;
                return up.stream();
            }
            return current;
        });
        if (written == null) {
            LOG.debugf("refit of %s dropped: the stream changed state or window meanwhile", key);
            return Optional.empty();
        }
        policies.put(written);
        metrics.observe(written);
        if (promoted[0] != null) {
            metrics.stateChanged(promoted[0].previousState(), written.state());
            LOG.infof("stream %s: %s -> %s (%s)", key, promoted[0].previousState(), written.state(),
                    promoted[0].changeReason());
        }
        LOG.debugf("refitted %s from %d decisions: %s", key, window.size(), written.certification());
        return Optional.of(written);
    }

    /** True when a stream with {@code reviewed} verdicts, last fitted at {@code fitted} (-1: never), is due. */
    static boolean refitDue(long reviewed, long fitted, int everyVerdicts) {
        if (fitted < 0) {
            return reviewed > 0;
        }
        long due = Math.min(everyVerdicts, Math.max(5, fitted / 10));
        return reviewed - fitted >= due;
    }

    /**
     * Refits every stream with enough new verdicts since its last fit: {@code fit.every-verdicts}, or 10 % more
     * than at the last fit (at least 5) when that comes first. Early verdicts move the blocking rate and the
     * certificate most (b = 1 − α/U with U about 2.3/n for a clean stream), so a young stream is refitted often and
     * its cost falls as its evidence grows, not in steps of 50 reviews.
     */
    @Scheduled(every = "${tandem.audit.fit.interval:5s}", delayed = "2s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void refitStreams() {
        try {
            int refitted = 0;
            for (StreamRecord s : ledger.withConnection(streams::findAll)) {
                if (refitDue(s.reviewed(), s.fittedReviews(), config.fit().everyVerdicts())) {
                    if (refit(s.key()).isPresent()) {
                        refitted++;
                    }
                }
            }
            if (refitted > 0) {
                LOG.infof("refitted %d stream policies", refitted);
            }
        } catch (LedgerUnavailableException e) {
            LOG.debugf("stream policies not refitted: %s", e.getMessage());
        }
    }

    @Timeout(5000)
    public StreamRecord getStream(StreamKey key) {
        List<FieldViolation> violations = new ArrayList<>();
        RequestValidation.requireId(violations, "worker_backend", key.workerBackend());
        RequestValidation.requireId(violations, "worker_type", key.workerType());
        RequestValidation.throwIfAny(violations);
        return ledger.withConnection(c -> streams.find(c, key)).orElseThrow(
                () -> new NotFoundException("stream " + key + " has no decisions yet"));
    }

    /** Every stream; when the ledger is unreachable, the last state this replica saw (admin reads degrade). */
    @Timeout(5000)
    public List<StreamRecord> listStreams() {
        try {
            return ledger.withConnection(streams::findAll);
        } catch (LedgerUnavailableException e) {
            return knownStreams();
        }
    }

    List<StreamRecord> knownStreams() {
        LOG.warn("ledger unreachable: listing the streams last seen by this replica");
        return metrics.knownStreams().values().stream()
                .sorted(Comparator.comparing((StreamRecord s) -> s.key().toString()))
                .toList();
    }

    @Timeout(5000)
    public List<DecisionEntry> listDecisions(String taskId, String workerBackend, String workerType, int pageSize) {
        return listDecisions(new DecisionFilter(taskId, workerBackend, workerType, null, null, null, pageSize));
    }

    @Timeout(5000)
    public List<DecisionEntry> listDecisions(DecisionFilter requested) {
        DecisionFilter filter = new DecisionFilter(requested.taskId(), requested.workerBackend(),
                requested.workerType(), requested.tenant(), requested.decidedAfter(), requested.decidedBefore(),
                pageSize(requested.limit()));
        return ledger.withConnection(c -> decisions.list(c, filter));
    }

    @Timeout(5000)
    public DecisionEntry getDecision(String decisionId) {
        return ledger.withConnection(c -> decisions.find(c, decisionId)).orElseThrow(
                () -> new NotFoundException("decision " + decisionId + " is not in the ledger"));
    }

    @Timeout(5000)
    public List<StateChange> listStateChanges(String workerBackend, String workerType, String tenant, int limit) {
        return ledger.withConnection(c -> stateChanges.list(c, workerBackend, workerType, tenant, pageSize(limit)));
    }

    /** 0 means the default page; negative is refused; above the maximum is capped. */
    public int pageSize(int requested) {
        if (requested < 0) {
            throw new InvalidAuditRequestException(List.of(new FieldViolation("page_size", "must not be negative")));
        }
        AuditConfig.Ledger l = config.ledger();
        return requested == 0 ? l.defaultPageSize() : Math.min(requested, l.maxPageSize());
    }

    /** Refreshes the stream gauges and cached policies from the ledger, so they include other replicas' writes. */
    @Scheduled(every = "${tandem.audit.metrics.refresh-interval:15s}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void refreshStreamGauges() {
        try {
            List<StreamRecord> all = ledger.withConnection(streams::findAll);
            all.forEach(s -> {
                metrics.observe(s);
                policies.put(s);
            });
            metrics.queues(ledger.withConnection(tasks::pendingByQueue));
        } catch (LedgerUnavailableException e) {
            LOG.debugf("stream gauges not refreshed: %s", e.getMessage());
        }
    }

    private List<WindowEntry> window(Connection c, StreamRecord s) throws SQLException {
        return decisions.window(c, s.key(), s.windowSinceSeq(), config.fit().maxWindow());
    }

    private List<WindowEntry> certificationSample(Connection c, StreamRecord s) throws SQLException {
        return decisions.certificationSample(c, s.key(), s.windowSinceSeq(), config.fit().maxCertificationSamples());
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
