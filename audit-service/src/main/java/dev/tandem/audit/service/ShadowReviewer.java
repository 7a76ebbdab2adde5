package dev.tandem.audit.service;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.scheduler.ScheduledExecution;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.quarkus.scheduler.Scheduled;
import io.quarkus.virtual.threads.VirtualThreads;

import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.ReviewTask;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.audit.client.RouterReviewClient;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.LedgerUnavailableException;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.worker.v1.ReviewVerdict;

/**
 * Works the model review queue: claims shadow reviews (FOR UPDATE SKIP LOCKED, under a lease, so replicas share
 * the queue and a crashed replica's claims return to it), sends each to {@code RouterService.Review} with the
 * stored inputs, candidate output, model and instructions, and records the verdict through the same path as
 * RecordVerdict (idempotent). A failed review goes back to the queue with back-off and, after
 * {@code review.max-attempts}, to the human queue with its last error.
 */
@ApplicationScoped
public class ShadowReviewer {

    private static final Logger LOG = Logger.getLogger(ShadowReviewer.class);

    private final ReviewQueueService queue;
    private final RouterReviewClient router;
    private final AuditConfig config;
    private final ExecutorService executor;
    private final String name;

    public ShadowReviewer(ReviewQueueService queue, RouterReviewClient router, AuditConfig config,
            @VirtualThreads ExecutorService executor) {
        this.queue = queue;
        this.router = router;
        this.config = config;
        this.executor = executor;
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "audit";
        }
        this.name = "shadow-reviewer@" + host;
    }

    @Scheduled(every = "${tandem.audit.review.shadow-interval:2s}", delayed = "3s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = ShadowReviewerDisabled.class)
    void scheduled() {
        try {
            runOnce();
        } catch (LedgerUnavailableException e) {
            LOG.debugf("shadow reviews not claimed: %s", e.getMessage());
        }
    }

    /** Claims one batch and reviews it; returns {recorded, failed}. */
    public int[] runOnce() {
        List<ReviewTask> claimed = queue.claim(ReviewQueue.MODEL, name, config.review().shadowBatch(), 0, null);
        if (claimed.isEmpty()) {
            return new int[] { 0, 0 };
        }
        AtomicInteger recorded = new AtomicInteger();
        AtomicInteger rejected = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Semaphore slots = new Semaphore(Math.max(1, config.review().shadowConcurrency()));
        List<Future<?>> running = new ArrayList<>();
        for (ReviewTask task : claimed) {
            slots.acquireUninterruptibly();
            running.add(executor.submit(() -> {
                try {
                    if (review(task)) {
                        rejected.incrementAndGet();
                    }
                    recorded.incrementAndGet();
                } catch (RuntimeException e) {
                    failed.incrementAndGet();
                    String error = e.getClass().getSimpleName() + ": " + e.getMessage();
                    LOG.warnf("shadow review of %s failed (attempt %d): %s", task.entry().request().decisionId(),
                            task.attempts(), error);
                    try {
                        queue.release(task, error);
                    } catch (RuntimeException releaseFailure) {
                        LOG.warnf("could not release %s (its lease will expire): %s",
                                task.entry().request().decisionId(), releaseFailure.getMessage());
                    }
                } finally {
                    slots.release();
                }
            }));
        }
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (Exception e) {
                LOG.debugf("shadow review task ended abnormally: %s", e.toString());
            }
        }
        LOG.infof("shadow reviews: %d claimed, %d recorded (%d rejected), %d failed", claimed.size(), recorded.get(),
                rejected.get(), failed.get());
        return new int[] { recorded.get(), failed.get() };
    }

    /** True when the reviewer rejected the output. */
    private boolean review(ReviewTask task) {
        DecisionRequest r = task.entry().request();
        if (!r.taskId().isEmpty()) {
            MDC.put("taskId", r.taskId());
        }
        try {
            ReviewResponse response = router.review(ReviewRequest.newBuilder()
                    .setTaskId(r.taskId())
                    .setStepId(r.stepId())
                    .setWorkerType(r.stream().workerType())
                    .putAllInputs(r.inputs())
                    .setCandidateOutput(r.candidateOutput())
                    .setCandidateModelId(r.stream().workerBackend())
                    .setInstructions(r.instructions())
                    .setTenant(task.entry().tenant())
                    .build(), config.review().reviewTimeout());
            var review = response.getReview();
            if (review.getVerdict() != ReviewVerdict.REVIEW_VERDICT_ACCEPTED
                    && review.getVerdict() != ReviewVerdict.REVIEW_VERDICT_REJECTED) {
                throw new IllegalStateException("the reviewer returned no verdict");
            }
            boolean rejected = review.getVerdict() == ReviewVerdict.REVIEW_VERDICT_REJECTED;
            queue.submit(new VerdictRequest(r.decisionId(), rejected ? Verdict.REJECTED : Verdict.ACCEPTED,
                    review.getModelId().isEmpty() ? "oracle" : review.getModelId(), review.getReason(),
                    rejected ? review.getReviewerOutput() : ""), task.claimToken());
            return rejected;
        } finally {
            MDC.remove("taskId");
        }
    }

    /** Skips the schedule when {@code tandem.audit.review.shadow-enabled=false}. */
    @ApplicationScoped
    public static class ShadowReviewerDisabled implements Scheduled.SkipPredicate {

        private final AuditConfig config;

        public ShadowReviewerDisabled(AuditConfig config) {
            this.config = config;
        }

        @Override
        public boolean test(ScheduledExecution execution) {
            return !config.review().shadowEnabled();
        }
    }
}
