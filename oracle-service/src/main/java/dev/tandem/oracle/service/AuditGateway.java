package dev.tandem.oracle.service;

import dev.tandem.oracle.client.AuditClient;
import dev.tandem.oracle.client.RefusedCallException;
import dev.tandem.oracle.repository.PendingAuditRepository;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditReason;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.LocalDecision;
import dev.tandem.proto.audit.v1.RecordDecisionsRequest;
import dev.tandem.proto.audit.v1.RecordedDecision;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.ReviewMode;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.faulttolerance.Fallback;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * The audit service with its fail-safe. When it cannot be reached (after the client's retries) an output is
 * treated as selected for a blocking review, reason {@value #AUDIT_UNAVAILABLE}: the oracle reviews rather than
 * trusting an output nobody decided on. The decision, and its verdict, go to a bounded pending list and are
 * re-sent in order by {@link #reconcile()} (scheduled every {@code tandem.oracle.audit.reconcile-every}), so no
 * decision is lost; both audit calls are idempotent on decision_id, so a re-send is safe.
 */
@ApplicationScoped
public class AuditGateway {

    public static final String AUDIT_UNAVAILABLE = "audit_unavailable";
    private static final Logger LOG = Logger.getLogger(AuditGateway.class);

    private final AuditClient client;
    private final PendingAuditRepository pending;
    private final AuditPolicyCache policies;

    public AuditGateway(AuditClient client, PendingAuditRepository pending, AuditPolicyCache policies) {
        this.client = client;
        this.pending = pending;
        this.policies = policies;
    }

    @Fallback(fallbackMethod = "failSafeDecision")
    public DecideResponse decide(DecideRequest request, Deadline deadline) {
        try {
            return client.decide(request, deadline);
        } catch (RefusedCallException e) {
            if (!e.permanent() || Context.current().isCancelled()) {
                throw e;
            }
            // the same request would be refused again: reviewed, not queued (it would block every later record)
            LOG.errorf("the audit service refuses the decision %s (%s): it gets a blocking review and is not queued",
                    request.getDecisionId(), e.getStatus());
            return blockingReview(request);
        }
    }

    DecideResponse failSafeDecision(DecideRequest request, Deadline deadline) {
        if (Context.current().isCancelled()) {
            // the client cancelled the task: nothing is left to review, and the audit service was not at fault
            throw Status.CANCELLED.withDescription("the client cancelled the task").asRuntimeException();
        }
        pending.addDecision(request);
        LOG.warnf("audit service unavailable: %s gets a blocking review; decision queued (%d pending)",
                request.getDecisionId(), pending.size());
        return blockingReview(request);
    }

    /**
     * Stores a batch of locally taken decisions and returns the stored ones, in order: act on these (a policy that
     * changed since it was read may have turned a pass into a review). When the audit service cannot store them
     * (after the client's retries), the fail-safe of {@link #decide} applies to each: reviewed blocking, reason
     * {@value #AUDIT_UNAVAILABLE}, and queued for Decide by {@link #reconcile()}, so no output passes unreviewed
     * without its decision in the ledger.
     */
    public List<DecideResponse> recordDecisions(List<LocalDecision> batch, Deadline deadline) {
        if (batch.isEmpty()) {
            return List.of();
        }
        try {
            var stored = client.recordDecisions(RecordDecisionsRequest.newBuilder().addAllDecisions(batch).build(),
                    deadline).getDecisionsList();
            if (stored.size() != batch.size()) {
                throw Status.INTERNAL.withDescription("RecordDecisions answered " + stored.size() + " decisions for "
                        + batch.size()).asRuntimeException();
            }
            return stored.stream().map(RecordedDecision::getDecision).toList();
        } catch (RefusedCallException e) {
            if (Context.current().isCancelled()) {
                throw Status.CANCELLED.withDescription("the client cancelled the task").asRuntimeException();
            }
            if (e.permanent()) {
                LOG.errorf("the audit service refuses a batch of %d decisions (%s): they get blocking reviews and "
                        + "are not queued", batch.size(), e.getStatus());
                return batch.stream().map(d -> blockingReview(d.getRequest())).toList();
            }
            return failSafe(batch, e);
        } catch (RuntimeException e) {
            if (Context.current().isCancelled()) {
                throw Status.CANCELLED.withDescription("the client cancelled the task").asRuntimeException();
            }
            return failSafe(batch, e);
        }
    }

    private List<DecideResponse> failSafe(List<LocalDecision> batch, RuntimeException cause) {
        // until the audit service publishes again, steps are decided (and fail safe) one at a time, so an output is
        // reviewed before other steps read it, as without local decisions
        policies.clear();
        batch.forEach(d -> pending.addDecision(d.getRequest()));
        LOG.warnf("audit service unavailable (%s): %d locally decided outputs get blocking reviews; decisions "
                + "queued (%d pending)", cause.getMessage(), batch.size(), pending.size());
        return batch.stream().map(d -> blockingReview(d.getRequest())).toList();
    }

    private static DecideResponse blockingReview(DecideRequest request) {
        return DecideResponse.newBuilder()
                .setDecisionId(request.getDecisionId())
                .setAction(AuditAction.AUDIT_ACTION_REVIEW)
                .setReason(AuditReason.AUDIT_REASON_UNSPECIFIED)
                .setMode(ReviewMode.REVIEW_MODE_BLOCKING)
                .setSamplingProbability(1.0)
                .setExplanation(AUDIT_UNAVAILABLE)
                .build();
    }

    /** True for a decision the fail-safe took because the audit service was unavailable. */
    public static boolean isFailSafe(DecideResponse decision) {
        return AUDIT_UNAVAILABLE.equals(decision.getExplanation())
                && decision.getReason() == AuditReason.AUDIT_REASON_UNSPECIFIED;
    }

    /** Records a verdict, or queues it behind its decision when that is still pending or the call fails. */
    public void recordVerdict(RecordVerdictRequest verdict, Deadline deadline) {
        if (pending.hasPending(verdict.getDecisionId())) {
            pending.addVerdict(verdict);
            return;
        }
        try {
            client.recordVerdict(verdict, deadline);
        } catch (RefusedCallException e) {
            if (e.permanent()) {
                LOG.errorf("the audit service refuses the verdict of %s (%s); not queued", verdict.getDecisionId(),
                        e.getStatus());
                return;
            }
            pending.addVerdict(verdict);
            LOG.warnf("audit service refused the verdict of %s for now (%s); queued (%d pending)",
                    verdict.getDecisionId(), e.getMessage(), pending.size());
        } catch (RuntimeException e) {
            pending.addVerdict(verdict);
            LOG.warnf("audit service unavailable recording the verdict of %s (%s); queued (%d pending)",
                    verdict.getDecisionId(), e.getMessage(), pending.size());
        }
    }

    @Scheduled(every = "${tandem.oracle.audit.reconcile-every}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduledReconcile() {
        if (pending.size() > 0) {
            reconcile();
        }
    }

    /**
     * Re-sends pending records in order and stops at the first failure (the audit service is still down).
     *
     * @return how many records were delivered
     */
    public synchronized int reconcile() {
        int delivered = 0;
        for (var next = pending.peek(); next.isPresent(); next = pending.peek()) {
            var record = next.get();
            try {
                if (record.decide() != null) {
                    client.decide(record.decide(), null);
                } else {
                    client.recordVerdict(record.verdict(), null);
                }
            } catch (RefusedCallException e) {
                if (!e.permanent()) {
                    LOG.warnf("audit reconciliation paused after %d delivered, %d pending: %s", delivered,
                            pending.size(), e.getMessage());
                    return delivered;
                }
                // re-sending cannot succeed, and waiting on it would hold back every record queued behind it
                LOG.errorf("audit reconciliation dropped the pending %s of %s: the audit service refuses it (%s)",
                        record.decide() != null ? "decision" : "verdict", record.decisionId(), e.getStatus());
                pending.remove(record);
                continue;
            } catch (RuntimeException e) {
                LOG.warnf("audit reconciliation paused after %d delivered, %d pending: %s", delivered,
                        pending.size(), e.getMessage());
                return delivered;
            }
            pending.remove(record);
            delivered++;
        }
        if (delivered > 0) {
            LOG.infof("audit reconciliation delivered %d pending records", delivered);
        }
        return delivered;
    }
}
