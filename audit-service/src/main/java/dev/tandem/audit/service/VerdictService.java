package dev.tandem.audit.service;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.quarkus.scheduler.Scheduled;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.DecisionRepository;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.LedgerUnavailableException;
import dev.tandem.audit.repository.ReviewTaskRepository;
import dev.tandem.audit.repository.StateChangeRepository;
import dev.tandem.audit.repository.StreamRepository;

/**
 * Verdicts and refits: a verdict is recorded and the trust rules applied under the stream's row lock, in a batch
 * with the other verdicts queued meanwhile ({@link VerdictWriter}: one lock hold and one commit for many); each
 * stream's policy is refitted from its evidence window, after a verdict that calls for it and periodically.
 *
 * <p>Verdict writes are retried on ledger failures (idempotent on decision_id) but have no fallback: a verdict that
 * is not in the ledger must not be acknowledged.
 */
@ApplicationScoped
public class VerdictService {

    private static final Logger LOG = Logger.getLogger(VerdictService.class);

    /** Longest wait for the verdict writer's commit (the public call's own time-out, 5 s, is shorter). */
    private static final long VERDICT_WAIT_MS = 10_000;

    private final Ledger ledger;
    private final StreamRepository streams;
    private final DecisionRepository decisions;
    private final StateChangeRepository stateChanges;
    private final ReviewTaskRepository tasks;
    private final TrustPolicy trustPolicy;
    private final PolicyFitter fitter;
    private final StreamPolicies policies;
    private final AuditMetrics metrics;
    private final AuditConfig config;
    private final OnboardingPriors onboarding;
    private final VerdictWriter writer;

    public VerdictService(Ledger ledger, StreamRepository streams, DecisionRepository decisions,
            StateChangeRepository stateChanges, ReviewTaskRepository tasks, TrustPolicy trustPolicy,
            PolicyFitter fitter, StreamPolicies policies, AuditMetrics metrics, AuditConfig config,
            OnboardingPriors onboarding, VerdictWriter writer) {
        this.ledger = ledger;
        this.writer = writer;
        this.streams = streams;
        this.decisions = decisions;
        this.stateChanges = stateChanges;
        this.tasks = tasks;
        this.trustPolicy = trustPolicy;
        this.fitter = fitter;
        this.policies = policies;
        this.metrics = metrics;
        this.config = config;
        this.onboarding = onboarding;
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
        VerdictWriter.Pending pending = writer.submit(verdict, claimToken);
        VerdictWriter.Applied applied;
        try {
            applied = pending.done.get(VERDICT_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            // Withdrawn unless the writer already took it (then it may commit; a retry finds it stored).
            pending.done.cancel(false);
            Thread.currentThread().interrupt();
            throw new LedgerUnavailableException("interrupted while verdict " + verdict.decisionId()
                    + " was being written", e);
        } catch (TimeoutException e) {
            pending.done.cancel(false);
            throw new LedgerBusyException("the ledger did not commit verdict " + verdict.decisionId() + " within "
                    + VERDICT_WAIT_MS / 1000 + " s (verdict backlog " + writer.backlog() + ")", e);
        } catch (ExecutionException e) {
            putTaskId(pending);
            if (e.getCause() instanceof LedgerUnavailableException batch) {
                // The batch failed (one instance for all its callers): each caller throws its own.
                throw new LedgerUnavailableException(batch.getMessage(), batch);
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r; // NotFound, ConflictingVerdict, LeaseHeld: this verdict only
            }
            throw new LedgerUnavailableException("verdict " + verdict.decisionId() + " failed: " + e.getCause(),
                    e.getCause());
        }
        putTaskId(pending);
        VerdictOutcome outcome = applied.outcome();
        metrics.observe(outcome.stream());
        if (!outcome.duplicate()) {
            policies.put(outcome.stream());
            metrics.verdict(verdict.verdict());
            TrustUpdate update = applied.update();
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

    private static void putTaskId(VerdictWriter.Pending pending) {
        if (!pending.taskId.isEmpty()) {
            MDC.put("taskId", pending.taskId); // the verdict request carries no task id
        }
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
            current = withAlertRate(c, current, fitter.policyRate(before, certification));
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

    /**
     * The refit read the stream without a lock and set f from the outcome CUSUM it read; a verdict since then may
     * have moved the CUSUM across the alert level ({@link TrustPolicy#samplingRateAt}), so f is set again from the
     * locked row.
     */
    private StreamRecord withAlertRate(Connection c, StreamRecord current, double policyRate) throws SQLException {
        if (current.state() != TrustState.NORMAL && current.state() != TrustState.REDUCED) {
            return current;
        }
        double f = TrustPolicy.samplingRateAt(config.drift(), TrustPolicy.outcomeLimit(config.drift(), current),
                policyRate, current.outcomeCusum());
        if (f == current.samplingRate()) {
            return current;
        }
        StreamRecord.Builder b = current.toBuilder();
        b.samplingRate = f;
        b.policyVersion = current.policyVersion() + 1;
        StreamRecord adjusted = b.build();
        streams.update(c, adjusted);
        return adjusted;
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

    private List<WindowEntry> window(Connection c, StreamRecord s) throws SQLException {
        return decisions.window(c, s.key(), s.windowSinceSeq(), config.fit().maxWindow());
    }

    private List<WindowEntry> certificationSample(Connection c, StreamRecord s) throws SQLException {
        return decisions.certificationSample(c, s.key(), s.windowSinceSeq(), config.fit().maxCertificationSamples());
    }
}
