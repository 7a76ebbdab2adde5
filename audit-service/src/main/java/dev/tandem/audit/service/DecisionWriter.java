package dev.tandem.audit.service;

import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.DecisionRepository;
import dev.tandem.audit.repository.DecisionRepository.NewDecision;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.LedgerRefusedException;
import dev.tandem.audit.repository.LedgerUnavailableException;
import dev.tandem.audit.repository.ReviewTaskRepository;
import dev.tandem.audit.repository.StateChangeRepository;
import dev.tandem.audit.repository.StreamRepository;

/**
 * Group commit of decisions: concurrent Decide calls queue here and a writer takes everything queued (up to
 * {@code ledger.max-batch}) into one transaction: one INSERT of the decisions over column arrays (ON CONFLICT DO
 * NOTHING: replays), their payloads and shadow review tasks when there are any, then in one round trip a statement
 * locking the batch's streams in key order, one counter UPDATE for all the streams (which also applies the batch's
 * confidence-CUSUM increments exactly) and the COMMIT with PostgreSQL's synchronous commit. Every caller is answered
 * only after that commit, so an acknowledged decision is durable; a batch that fails fails every caller (they retry
 * with the same decision id), unless the database refused a record's content: then each decision is written alone
 * and only the refused one fails. One fsync then serves many decisions, which is what makes thousands of durable
 * decisions per second possible on one stream, whose counter row every decision updates. Hand-written: the JDBC
 * pool and PostgreSQL batch commits of concurrent transactions, but not the shared row lock each one waits on.
 *
 * <p>The stream rows are locked only by the batch's last round trip, which sends the lock (in key order), the counter
 * update and the COMMIT together ({@link StreamRepository#countDecisionsAndCommit}): before, a batch locked its
 * streams first and held the hot stream's row through the insert, the update and the commit, four round trips each
 * waiting for a CPU on a busy machine, while the other writer and the verdict writer waited for it (issue 16:
 * pg_stat_activity showed a writer waiting for that row lock in 107 of 113 samples at 5,000/s; p99 209-350 ms). A
 * confidence alarm, rare, is its own transaction right after the commit. The writers also write the verdicts
 * ({@link VerdictWriter}'s batches) between decision batches, so there is no third thread contending for the row.
 * The batch is whatever queued during the previous commit, so it grows with the load and with the commit time.
 */
// A singleton, not @ApplicationScoped: injected as itself, without the client proxy whose context look-up on every
// call was about 4 % of the service's CPU on the Decide path at 5,000/s (issue 16).
@Singleton
public class DecisionWriter {

    private static final Logger LOG = Logger.getLogger(DecisionWriter.class);

    /** What a caller gets once its batch committed: the decision stored by this call, or the earlier one. */
    public record Written(boolean inserted, DecisionEntry stored) {
    }

    /**
     * One decision waiting for the writer, with the policy it was decided under, its CUSUM increment and the
     * {@link System#nanoTime} by which it is withdrawn unless committed.
     */
    record Pending(NewDecision decision, StreamRecord policy, double confidenceIncrement, ReviewQueue queue,
            String queueNote, CompletableFuture<Written> done, long withdrawAt) {
    }

    /**
     * A decision not committed this long after it was queued is withdrawn: its future completes with null (the
     * caller answers that the ledger is busy) and, if still queued, it is never written.
     */
    static final long WITHDRAW_AFTER_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** How often the queue and the batches being written are checked for decisions to withdraw. */
    private static final long WITHDRAW_CHECK_MS = 50;

    private final Ledger ledger;
    private final DecisionRepository decisions;
    private final StreamRepository streams;
    private final ReviewTaskRepository tasks;
    private final StateChangeRepository stateChanges;
    private final TrustPolicy trustPolicy;
    private final StreamPolicies policies;
    private final AuditMetrics metrics;
    private final AuditConfig config;
    private final VerdictWriter verdicts;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    /** One permit per decision or verdict queued: what the writers wait on. */
    private final Semaphore queued = new Semaphore(0);
    private final List<Thread> writers = new ArrayList<>();
    /** The batch each writer is writing, for the withdrawal check. */
    private final Map<Thread, List<Pending>> writing = new ConcurrentHashMap<>();
    private ScheduledExecutorService withdrawals;
    private volatile boolean running = true;

    /** A writer of decisions only (tests that need no verdicts). */
    public DecisionWriter(Ledger ledger, DecisionRepository decisions, StreamRepository streams,
            ReviewTaskRepository tasks, StateChangeRepository stateChanges, TrustPolicy trustPolicy,
            StreamPolicies policies, AuditMetrics metrics, AuditConfig config) {
        this(ledger, decisions, streams, tasks, stateChanges, trustPolicy, policies, metrics, config, null);
    }

    /** The ledger writer: decisions, and the verdicts queued in {@code verdicts} (may be null: none). */
    @Inject
    public DecisionWriter(Ledger ledger, DecisionRepository decisions, StreamRepository streams,
            ReviewTaskRepository tasks, StateChangeRepository stateChanges, TrustPolicy trustPolicy,
            StreamPolicies policies, AuditMetrics metrics, AuditConfig config, VerdictWriter verdicts) {
        this.verdicts = verdicts;
        if (verdicts != null) {
            verdicts.drivenBy(queued::release);
        }
        this.ledger = ledger;
        this.decisions = decisions;
        this.streams = streams;
        this.tasks = tasks;
        this.stateChanges = stateChanges;
        this.trustPolicy = trustPolicy;
        this.policies = policies;
        this.metrics = metrics;
        this.config = config;
    }

    @PostConstruct
    void start() {
        for (int i = 0; i < Math.max(1, config.ledger().writers()); i++) {
            Thread t = Thread.ofPlatform().daemon().name("audit-decision-writer-" + i).start(this::run);
            writers.add(t);
        }
        // One periodic check for all decisions instead of a timer per decision (CompletableFuture.completeOnTimeout
        // scheduled and cancelled one on a shared scheduler thread for every Decide: about 6 % of the service's CPU
        // at 5,000/s, issue 16); a decision is withdrawn at most WITHDRAW_CHECK_MS after its 5 s.
        withdrawals = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("audit-decision-withdrawal").factory());
        withdrawals.scheduleWithFixedDelay(this::withdrawExpired, WITHDRAW_CHECK_MS, WITHDRAW_CHECK_MS,
                TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    void stop() {
        running = false;
        writers.forEach(Thread::interrupt);
        if (withdrawals != null) {
            withdrawals.shutdownNow();
        }
    }

    /**
     * Withdraws the decisions past their time: queued ones (oldest first, so the check stops at the first one still
     * in time) are then skipped by the writers; one inside a batch being written may still be committed (its
     * caller's retry then gets the stored decision).
     */
    private void withdrawExpired() {
        try {
            long now = System.nanoTime();
            for (Pending p : queue) {
                if (now - p.withdrawAt() < 0) {
                    break;
                }
                p.done().complete(null);
            }
            for (List<Pending> batch : writing.values()) {
                for (Pending p : batch) {
                    if (now - p.withdrawAt() >= 0) {
                        p.done().complete(null);
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warnf(e, "withdrawal check failed; the next one retries");
        }
    }

    CompletableFuture<Written> submit(NewDecision decision, StreamRecord policy, double confidenceIncrement,
            ReviewQueue queueFor, String queueNote) {
        CompletableFuture<Written> done = new CompletableFuture<>();
        queue.add(new Pending(decision, policy, confidenceIncrement, queueFor, queueNote, done,
                System.nanoTime() + WITHDRAW_AFTER_NANOS));
        queued.release();
        return done;
    }

    private void run() {
        int max = Math.max(1, config.ledger().maxBatch());
        List<Pending> batch = new ArrayList<>(max);
        while (running) {
            try {
                if (!queued.tryAcquire(1, TimeUnit.SECONDS)) {
                    continue;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            // Everything queued until both queues are empty; the permits only wake the writer, so they are dropped
            // (a permit left over from work already done costs one empty pass).
            queued.drainPermits();
            boolean more = true;
            while (more && running) {
                more = false;
                if (verdicts != null && verdicts.backlog() > 0) {
                    verdicts.writeBatch(null);
                    more = true;
                }
                queue.drainTo(batch, max);
                if (!batch.isEmpty()) {
                    more = true;
                    try {
                        write(batch);
                    } catch (RuntimeException e) {
                        if (LedgerRefusedException.refusal(e) != null) {
                            writeOneByOne(batch);
                        } else {
                            LedgerUnavailableException failure = e instanceof LedgerUnavailableException l ? l
                                    : new LedgerUnavailableException("decision batch failed: " + e.getMessage(), e);
                            batch.forEach(p -> p.done().completeExceptionally(failure));
                        }
                    } finally {
                        batch.clear();
                    }
                }
            }
        }
    }

    /**
     * After the database refused a batch for a record's content: each decision in its own transaction, so that the
     * refused one fails alone (with {@link LedgerRefusedException}: its caller's retries would fail the same way)
     * and every other caller's decision is committed; a failed batch used to fail every caller in it.
     */
    private void writeOneByOne(List<Pending> batch) {
        for (Pending p : batch) {
            if (p.done().isDone()) {
                continue;
            }
            try {
                write(List.of(p));
            } catch (RuntimeException e) {
                var refusal = LedgerRefusedException.refusal(e);
                if (refusal != null) {
                    LOG.errorf("the ledger refused decision %s (SQLState %s: %s)", p.decision().request()
                            .decisionId(), refusal.getSQLState(), refusal.getMessage());
                    p.done().completeExceptionally(new LedgerRefusedException("the ledger refused decision "
                            + p.decision().request().decisionId() + " (SQLState " + refusal.getSQLState()
                            + "); the same request would be refused again", e));
                } else {
                    p.done().completeExceptionally(e instanceof LedgerUnavailableException l ? l
                            : new LedgerUnavailableException("decision write failed: " + e.getMessage(), e));
                }
            }
        }
    }

    private void write(List<Pending> all) {
        // Callers that gave up (timed out) are skipped: nothing of theirs is written or acknowledged.
        List<Pending> batch = all.stream().filter(p -> !p.done().isDone()).toList();
        if (batch.isEmpty()) {
            return;
        }
        writing.put(Thread.currentThread(), batch);
        try {
            writeTaken(batch);
        } finally {
            writing.remove(Thread.currentThread());
        }
    }

    private void writeTaken(List<Pending> batch) {
        // The first occurrence of an id is written; later ones in the same batch are replays of it.
        Map<String, Pending> unique = new LinkedHashMap<>();
        for (Pending p : batch) {
            unique.putIfAbsent(p.decision().request().decisionId(), p);
        }
        Map<StreamKey, Long> versions = new LinkedHashMap<>();
        Map<StreamKey, Double> cusums = new LinkedHashMap<>();
        Result result = ledger.withConnection(c -> Ledger.inTransaction(c, tx -> {
            List<NewDecision> rows = unique.values().stream().map(Pending::decision).toList();
            // Inserted before the streams are locked: the inserts of concurrent batches do not conflict (the foreign
            // key's key-share lock does not block the counter's lock), so they overlap; the stream rows are locked
            // only by the last round trip, which also commits.
            Set<String> inserted = decisions.insertAll(tx, rows);
            List<String> taskIds = new ArrayList<>();
            List<ReviewQueue> taskQueues = new ArrayList<>();
            List<String> taskNotes = new ArrayList<>();
            // Per stream, in key order (a stable lock order across writers and replicas): counts and increments.
            Map<String, List<Pending>> byStream = new TreeMap<>();
            for (Pending p : unique.values()) {
                if (!inserted.contains(p.decision().request().decisionId())) {
                    continue;
                }
                if (p.queue() != null) {
                    taskIds.add(p.decision().request().decisionId());
                    taskQueues.add(p.queue());
                    taskNotes.add(p.queueNote());
                }
                StreamKey k = p.decision().request().stream();
                byStream.computeIfAbsent(k.workerBackend() + '\u0000' + k.workerType() + '\u0000' + k.tenant(),
                        x -> new ArrayList<>()).add(p);
            }
            if (!taskIds.isEmpty()) {
                tasks.enqueue(tx, taskIds, taskQueues, taskNotes);
            }
            List<StreamRepository.BatchCount> counts = new ArrayList<>(byStream.size());
            for (List<Pending> group : byStream.values()) {
                StreamKey key = group.get(0).decision().request().stream();
                int reviews = 0;
                double[] increments = new double[group.size()];
                int n = 0;
                for (Pending p : group) {
                    if (p.decision().decision().action() == AuditAction.REVIEW) {
                        reviews++;
                    }
                    if (!Double.isNaN(p.confidenceIncrement())) {
                        increments[n++] = p.confidenceIncrement();
                    }
                }
                double[] batchCusum = DriftDetectors.batch(Arrays.copyOf(increments, n));
                counts.add(new StreamRepository.BatchCount(key, group.size(), reviews, batchCusum[0], batchCusum[1]));
            }
            List<String> replayIds = new ArrayList<>();
            for (Pending p : unique.values()) {
                if (!inserted.contains(p.decision().request().decisionId())) {
                    replayIds.add(p.decision().request().decisionId());
                }
            }
            Map<String, DecisionEntry> stored = replayIds.isEmpty() ? Map.of() : decisions.findAll(tx, replayIds);
            if (!counts.isEmpty()) {
                streams.countDecisionsAndCommit(tx, counts).forEach((key, counted) -> {
                    versions.put(key, counted.policyVersion());
                    cusums.put(key, counted.confidenceCusum());
                });
            }
            return new Result(inserted, stored);
        }));
        // Committed. A confidence alarm (rare) is its own transaction on the locked row, so the batch's lock is held
        // by one round trip only; the batch's callers are answered after it, as before.
        List<StreamAlarm> alarms = new ArrayList<>();
        cusums.forEach((key, cusum) -> {
            if (cusum >= config.drift().confidenceLimit()) {
                try {
                    StreamAlarm alarm = confidenceAlarm(key);
                    if (alarm != null) {
                        alarms.add(alarm);
                        versions.put(key, alarm.update().stream().policyVersion());
                    }
                } catch (LedgerUnavailableException e) {
                    // The batch is committed, so its callers are answered; the statistic stays over the limit, so
                    // the stream's next batch raises the alarm again.
                    LOG.warnf("stream %s: confidence alarm not stored (%s); the next batch retries it", key,
                            e.getMessage());
                }
            }
        });
        for (StreamAlarm a : alarms) {
            TrustUpdate u = a.update();
            policies.put(u.stream());
            metrics.stateChanged(u.previousState(), u.stream().state());
            metrics.driftAlarm(u.stream().key(), u.driftAlarm());
            LOG.warnf("stream %s: %s -> %s (%s)", u.stream().key(), u.previousState(), u.stream().state(),
                    u.changeReason());
        }
        versions.forEach((key, version) -> policies.invalidateIfOlder(key, version));
        for (Pending p : batch) {
            String id = p.decision().request().decisionId();
            Pending first = unique.get(id);
            if (first == p && result.inserted().contains(id)) {
                p.done().complete(new Written(true, null));
            } else if (result.inserted().contains(id)) {
                p.done().complete(new Written(false, new DecisionEntry(0, first.decision().requestTenant(),
                        first.decision().request(), first.decision().decision(), Instant.now(), null, null, null,
                        null, null)));
            } else {
                DecisionEntry e = result.stored().get(id);
                if (e == null) {
                    p.done().completeExceptionally(new LedgerUnavailableException("decision " + id
                            + " conflicted but is not stored", new SQLException("missing replay")));
                } else {
                    p.done().complete(new Written(false, e));
                }
            }
        }
    }

    /**
     * Raises the confidence alarm of a stream whose statistic reached the limit, unless another batch, replica or
     * verdict already changed its state or reset the statistic; null when nothing was raised.
     */
    private StreamAlarm confidenceAlarm(StreamKey key) {
        return ledger.withConnection(c -> Ledger.inTransaction(c, tx -> {
            StreamRecord current = streams.findForUpdate(tx, key).orElseThrow();
            if ((current.state() != TrustState.NORMAL && current.state() != TrustState.REDUCED)
                    || current.confidenceCusum() < config.drift().confidenceLimit()) {
                return null;
            }
            TrustUpdate alarm = trustPolicy.confidenceAlarm(current, current.confidenceCusum(),
                    decisions.nextSeq(tx), Instant.now().truncatedTo(ChronoUnit.MICROS));
            streams.update(tx, alarm.stream());
            stateChanges.insert(tx, key, alarm.previousState(), alarm.stream().state(), alarm.changeReason(), null);
            return new StreamAlarm(alarm);
        }));
    }

    private record Result(Set<String> inserted, Map<String, DecisionEntry> stored) {
    }

    private record StreamAlarm(TrustUpdate update) {
    }

    /** Decisions waiting for a writer (for the logs when the ledger is slow). */
    int backlog() {
        return queue.size();
    }

    static boolean shadow(NewDecision d) {
        return d.decision().mode() == ReviewMode.SHADOW;
    }
}
