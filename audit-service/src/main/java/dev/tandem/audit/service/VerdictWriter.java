package dev.tandem.audit.service;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.Verdict;
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
 * Group commit of verdicts: concurrent verdict calls queue here and the ledger writer ({@link DecisionWriter}'s
 * thread, which also writes the decisions, so the two never wait on each other's stream-row locks) takes what is
 * queued (up to {@code ledger.verdict-max-batch}) into one transaction: it inserts the verdicts in one statement and
 * removes their review tasks in one statement, then row-locks the batch's streams once each in one statement, in the
 * same key order as the decision batches (so other replicas never wait on it in opposite orders), applies the trust rules
 * one verdict after the other in queue order exactly as a single verdict would be (stored/duplicate/conflicting
 * verdict, lease check, the stream as the previous verdict of the batch left it, refit when the new state needs one,
 * state change rows), writes each changed stream row once and commits once. Every caller is answered only after that
 * commit, with its own outcome. The verdict's decision is read by the caller's own thread before it queues (decisions
 * are never changed once stored), so the writer spends no round trip per verdict.
 *
 * <p>A verdict refused on its own (unknown decision, conflicting verdict, lease held by another reviewer) is refused
 * before it writes anything, so it fails only its caller and the batch goes on. When a statement or the commit fails,
 * the batch is written again one verdict at a time, so a verdict whose own statement fails is answered with
 * {@link LedgerUnavailableException} alone and the others are stored; when the ledger is down every caller gets it
 * and retries (verdicts are idempotent on the decision id).
 *
 * <p>Why: each verdict in its own transaction held the stream's row lock through its commit while Decide's writer
 * needed that row, so at a few hundred verdicts per second on a hot stream the decisions queued behind them; and a
 * verdict writer of its own, even batching, still held the hot row for two round trips per verdict while the decision
 * writers waited for it (issue 16: pg_stat_activity showed them waiting on each other's row locks most of the time).
 * Hand-written like {@link DecisionWriter}: the pool and PostgreSQL batch commits of concurrent transactions, but not
 * the shared row lock each one waits on.
 */
@ApplicationScoped
public class VerdictWriter {

    private static final Logger LOG = Logger.getLogger(VerdictWriter.class);

    /**
     * What a caller gets once its batch committed: its outcome and, when it was applied (not a duplicate), the trust
     * update for metrics and logs.
     */
    record Applied(VerdictOutcome outcome, TrustUpdate update) {
    }

    /** One verdict waiting for the writer, with its decision (read when it was queued). */
    static final class Pending {
        final VerdictRequest verdict;
        final String claimToken;
        final CompletableFuture<Applied> done = new CompletableFuture<>();
        volatile String taskId = "";
        volatile DecisionEntry entry;

        Pending(VerdictRequest verdict, String claimToken) {
            this.verdict = verdict;
            this.claimToken = claimToken;
        }
    }

    private final Ledger ledger;
    private final StreamRepository streams;
    private final DecisionRepository decisions;
    private final StateChangeRepository stateChanges;
    private final ReviewTaskRepository tasks;
    private final TrustPolicy trustPolicy;
    private final PolicyFitter fitter;
    private final AuditConfig config;
    private final OnboardingPriors onboarding;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    /** Wakes the ledger writer when a verdict is queued. */
    private volatile Runnable queued = () -> { };

    public VerdictWriter(Ledger ledger, StreamRepository streams, DecisionRepository decisions,
            StateChangeRepository stateChanges, ReviewTaskRepository tasks, TrustPolicy trustPolicy,
            PolicyFitter fitter, AuditConfig config, OnboardingPriors onboarding) {
        this.ledger = ledger;
        this.streams = streams;
        this.decisions = decisions;
        this.stateChanges = stateChanges;
        this.tasks = tasks;
        this.trustPolicy = trustPolicy;
        this.fitter = fitter;
        this.config = config;
        this.onboarding = onboarding;
    }

    /** The ledger writer that takes the queued verdicts: {@code wake} is run after every verdict queued. */
    void drivenBy(Runnable wake) {
        this.queued = wake;
    }

    /**
     * Reads the verdict's decision (on the caller's thread) and queues the verdict; the future completes after the
     * batch holding it committed (or failed). An unknown decision, or a ledger that cannot be read, fails at once.
     */
    Pending submit(VerdictRequest verdict, String claimToken) {
        Pending p = new Pending(verdict, claimToken);
        DecisionEntry entry;
        try {
            entry = ledger.withConnection(c -> decisions.find(c, verdict.decisionId())).orElse(null);
        } catch (LedgerUnavailableException e) {
            p.done.completeExceptionally(e);
            return p;
        }
        if (entry == null) {
            p.done.completeExceptionally(new NotFoundException("decision " + verdict.decisionId()
                    + " is not in the ledger"));
            return p;
        }
        p.entry = entry;
        p.taskId = entry.request().taskId(); // the verdict request carries no task id
        queue.add(p);
        queued.run();
        return p;
    }

    /** Verdicts waiting for the writer (for the logs when the ledger is slow). */
    int backlog() {
        return queue.size();
    }

    /**
     * Takes {@code first} and what else is queued (up to the batch size) and writes them: called by the ledger writer
     * when verdicts are queued, and by tests directly.
     */
    void writeBatch(Pending first) {
        List<Pending> batch = new ArrayList<>();
        if (first != null) {
            batch.add(first);
        }
        queue.drainTo(batch, Math.max(1, config.ledger().verdictMaxBatch()) - batch.size());
        if (batch.isEmpty()) {
            return;
        }
        try {
            write(batch);
        } catch (RuntimeException e) {
            if (batch.size() == 1) {
                fail(batch, e);
                return;
            }
            // One verdict's failing statement must not fail the others on every retry: the batch is written again
            // one verdict at a time, so only a verdict that fails alone is refused (a ledger that is down fails
            // them all, as before). Savepoints per verdict would do the same at two more round trips each under
            // the row lock that Decide's writer waits for; this costs nothing until a batch fails.
            LOG.debugf("verdict batch of %d failed (%s); writing its verdicts one by one", batch.size(),
                    e.getMessage());
            for (Pending p : batch) {
                try {
                    write(List.of(p));
                } catch (RuntimeException alone) {
                    fail(List.of(p), alone);
                }
            }
        } catch (Error e) {
            fail(batch, e);
        }
    }

    private static void fail(List<Pending> batch, Throwable e) {
        LedgerUnavailableException failure = e instanceof LedgerUnavailableException l ? l
                : new LedgerUnavailableException("verdict batch failed: " + e.getMessage(), e);
        batch.forEach(p -> p.done.completeExceptionally(failure));
    }

    private void write(List<Pending> all) {
        // Callers that gave up (timed out, interrupted) are skipped: nothing of theirs is written or acknowledged.
        List<Pending> batch = all.stream().filter(p -> !p.done.isDone()).toList();
        if (batch.isEmpty()) {
            return;
        }
        Map<Pending, Object> results = new LinkedHashMap<>(); // Applied, or the RuntimeException refusing it
        ledger.withConnection(c -> Ledger.inTransaction(c, tx -> {
            apply(tx, batch, results);
            return null;
        }));
        // Committed: only now is anyone answered.
        for (Pending p : batch) {
            Object r = results.get(p);
            if (r instanceof Applied a) {
                p.done.complete(a);
            } else if (r instanceof RuntimeException e) {
                p.done.completeExceptionally(e);
            } else {
                p.done.completeExceptionally(new LedgerUnavailableException("verdict " + p.verdict.decisionId()
                        + " was not applied by its batch", new SQLException("missing outcome")));
            }
        }
    }

    private void apply(Connection c, List<Pending> batch, Map<Pending, Object> results) throws SQLException {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        // A verdict from the review queue whose task another reviewer holds writes nothing.
        List<Pending> admitted = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            if (p.claimToken != null) {
                Optional<String[]> lease = tasks.lockLease(c, p.verdict.decisionId());
                if (lease.isPresent() && Boolean.parseBoolean(lease.get()[2])
                        && !p.claimToken.equals(lease.get()[0])) {
                    results.put(p, new LeaseHeldException("review of " + p.verdict.decisionId() + " is claimed by "
                            + lease.get()[1] + "; claim it again after its lease expires"));
                    continue;
                }
            }
            admitted.add(p);
        }
        // The first verdict of each decision is inserted, all in one statement; a verdict already stored, or a later
        // one for the same decision in this batch, is a replay (same verdict) or a conflict (another one).
        Map<String, Pending> first = new LinkedHashMap<>();
        admitted.forEach(p -> first.putIfAbsent(p.verdict.decisionId(), p));
        Set<String> inserted = first.isEmpty() ? Set.of()
                : decisions.insertVerdicts(c, first.values().stream().map(p -> p.verdict).toList());
        List<String> replayed = first.keySet().stream().filter(id -> !inserted.contains(id)).toList();
        Map<String, Verdict> stored = new HashMap<>(replayed.isEmpty() ? Map.of()
                : decisions.findVerdicts(c, replayed));
        inserted.forEach(id -> stored.put(id, first.get(id).verdict.verdict()));
        if (!inserted.isEmpty()) {
            tasks.deleteAll(c, List.copyOf(inserted));
        }
        // Then every stream, once, in key order: concurrent verdicts on one stream (from any replica) apply one batch
        // at a time. The statements above need no stream lock, so the rows are held only from here to the commit.
        List<StreamKey> keys = admitted.stream().map(p -> p.entry.request().stream()).distinct().toList();
        Map<StreamKey, StreamRecord> current = keys.isEmpty() ? new LinkedHashMap<>()
                : new LinkedHashMap<>(streams.findAllForUpdate(c, keys));
        Set<StreamKey> changed = new LinkedHashSet<>();
        long nextSeq = -1;
        for (Pending p : admitted) {
            VerdictRequest verdict = p.verdict;
            DecisionEntry entry = p.entry;
            StreamKey key = entry.request().stream();
            StreamRecord stream = current.get(key);
            if (stream == null) {
                throw new SQLException("stream " + key + " of a stored decision is missing");
            }
            if (first.get(verdict.decisionId()) != p || !inserted.contains(verdict.decisionId())) {
                Verdict already = stored.get(verdict.decisionId());
                if (already == null) {
                    throw new SQLException("verdict of " + verdict.decisionId() + " was neither stored nor found");
                }
                if (already != verdict.verdict()) {
                    results.put(p, new ConflictingVerdictException("decision " + verdict.decisionId()
                            + " already has verdict " + already + "; a verdict cannot be changed to "
                            + verdict.verdict()));
                } else {
                    results.put(p, new Applied(new VerdictOutcome(true, stream), null));
                }
                continue;
            }
            if (nextSeq < 0) {
                // No decision is written in this transaction: one read serves the batch.
                nextSeq = decisions.nextSeq(c);
            }
            TrustUpdate update = trustPolicy.apply(stream, verdict.verdict(), entry.decision().reason(),
                    entry.request().rawConfidence(), nextSeq, now, onboarding.forStream(key));
            StreamRecord next = update.stream();
            if (update.needsFit()) {
                next = fitter.fit(next, window(c, next), certificationSample(c, next), now);
            }
            current.put(key, next);
            changed.add(key);
            if (update.stateChanged()) {
                stateChanges.insert(c, key, update.previousState(), next.state(), update.changeReason(),
                        verdict.decisionId());
            }
            results.put(p, new Applied(new VerdictOutcome(false, next), new TrustUpdate(next,
                    update.previousState(), update.changeReason(), update.driftAlarm(), false)));
        }
        for (StreamKey key : changed) {
            streams.update(c, current.get(key));
        }
        if (batch.size() > 1) {
            LOG.debugf("verdict batch: %d verdicts on %d streams", batch.size(), changed.size());
        }
    }

    private List<WindowEntry> window(Connection c, StreamRecord s) throws SQLException {
        return decisions.window(c, s.key(), s.windowSinceSeq(), config.fit().maxWindow());
    }

    private List<WindowEntry> certificationSample(Connection c, StreamRecord s) throws SQLException {
        return decisions.certificationSample(c, s.key(), s.windowSinceSeq(), config.fit().maxCertificationSamples());
    }
}
