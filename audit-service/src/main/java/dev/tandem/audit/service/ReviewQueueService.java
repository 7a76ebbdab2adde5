package dev.tandem.audit.service;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.faulttolerance.Timeout;
import org.jboss.logging.Logger;

import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.ReviewTask;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.ReviewTaskRepository;
import dev.tandem.grpc.FieldViolation;

/**
 * The review queues: list pending reviews, claim them under a lease, submit the verdict (recorded exactly like
 * RecordVerdict, which also removes the task). Shadow reviews the model cannot do end up in the human queue, so
 * no accepted review is ever dropped.
 */
@ApplicationScoped
public class ReviewQueueService {

    private static final Logger LOG = Logger.getLogger(ReviewQueueService.class);
    private static final int MAX_CLAIM = 100;

    private final Ledger ledger;
    private final ReviewTaskRepository tasks;
    private final VerdictService verdicts;
    private final LedgerQueries queries;
    private final AuditConfig config;

    public ReviewQueueService(Ledger ledger, ReviewTaskRepository tasks, VerdictService verdicts,
            LedgerQueries queries, AuditConfig config) {
        this.ledger = ledger;
        this.tasks = tasks;
        this.verdicts = verdicts;
        this.queries = queries;
        this.config = config;
    }

    @Timeout(5000)
    public List<ReviewTask> list(ReviewQueue queue, String workerBackend, String workerType, String tenant,
            boolean includeClaimed, int pageSize) {
        RequestValidation.checkFilters("worker_backend", workerBackend, "worker_type", workerType, "tenant", tenant);
        int limit = queries.pageSize(pageSize);
        return ledger.withConnection(c -> tasks.list(c, queue, workerBackend, workerType, tenant, includeClaimed,
                limit));
    }

    @Timeout(5000)
    public List<ReviewTask> claim(ReviewQueue queue, String reviewer, int maxTasks, int leaseSeconds,
            String decisionId) {
        List<FieldViolation> violations = new ArrayList<>();
        RequestValidation.requireId(violations, "reviewer", reviewer);
        RequestValidation.optionalId(violations, "decision_id", decisionId);
        if (maxTasks < 0 || maxTasks > MAX_CLAIM) {
            violations.add(new FieldViolation("max_tasks", "must be within [0, " + MAX_CLAIM + "], 0 meaning 1"));
        }
        if (leaseSeconds < 0 || leaseSeconds > 86_400) {
            violations.add(new FieldViolation("lease_seconds", "must be within [0, 86400], 0 meaning the default"));
        }
        RequestValidation.throwIfAny(violations);
        Duration lease = leaseSeconds == 0 ? config.review().lease() : Duration.ofSeconds(leaseSeconds);
        ReviewQueue q = queue == null ? ReviewQueue.HUMAN : queue;
        List<ReviewTask> claimed = ledger.inTransaction(c -> tasks.claim(c, q, reviewer, maxTasks == 0 ? 1 : maxTasks,
                lease, decisionId));
        if (!claimed.isEmpty()) {
            LOG.infof("%s claimed %d %s review task(s) for %s", reviewer, claimed.size(), q, lease);
        }
        return claimed;
    }

    /** A reviewer's verdict on a claimed task; refused when another reviewer holds a live lease on it. */
    public VerdictOutcome submit(VerdictRequest verdict, String claimToken) {
        List<FieldViolation> violations = new ArrayList<>();
        RequestValidation.requireId(violations, "reviewer", verdict.reviewer());
        RequestValidation.requireId(violations, "claim_token", claimToken);
        RequestValidation.throwIfAny(violations);
        return verdicts.recordVerdict(verdict, claimToken);
    }

    /**
     * Keeps a claimed task's lease until {@code until} (a batch-class review waiting for its provider batch): no
     * other claim takes it meanwhile. A task whose claim changed hands is left as it is.
     */
    public void holdUntil(ReviewTask task, Instant until) {
        ledger.inTransaction(c -> {
            tasks.holdUntil(c, task.entry().request().decisionId(), task.claimToken(), until);
            return null;
        });
    }

    /** A failed model attempt: back to the queue with back-off, or to people after the last attempt. */
    public void release(ReviewTask task, String error) {
        boolean toHumans = task.attempts() >= config.review().maxAttempts();
        Duration backoff = config.review().retryBackoff().multipliedBy(1L << Math.min(10, task.attempts() - 1));
        ledger.inTransaction(c -> {
            tasks.release(c, task.entry().request().decisionId(), task.claimToken(), error, backoff, toHumans);
            return null;
        });
        if (toHumans) {
            LOG.warnf("shadow review of %s moved to the human queue after %d attempts: %s",
                    task.entry().request().decisionId(), task.attempts(), error);
        }
    }
}
