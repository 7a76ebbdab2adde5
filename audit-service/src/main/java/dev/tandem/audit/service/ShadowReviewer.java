package dev.tandem.audit.service;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.quarkus.runtime.ShutdownEvent;
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
import com.google.protobuf.Timestamp;
import dev.tandem.proto.worker.v1.LatencyClass;
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

    /** How long after its batch window a batch-class review's claim lasts: time to store the verdict. */
    static final Duration BATCH_LEASE_MARGIN = Duration.ofMinutes(1);
    /** The idempotency key of a batch-class shadow review: its decision id and this. */
    static final String KEY_SUFFIX = "/shadow-review";
    /** The router's longest idempotency key; a longer one is not sent (the review is then not keyed). */
    private static final int MAX_KEY_CHARS = 200;

    private final ReviewQueueService queue;
    private final RouterReviewClient router;
    private final AuditConfig config;
    private final ExecutorService executor;
    private final String name;
    /** Ends a drain at shutdown (the scheduler stops starting ticks, not a tick that is running). */
    private volatile boolean stopping;
    /** Batch-class reviews sent and waiting for their provider batch: each holds a call open for up to its window. */
    private final AtomicInteger batchReviewsInFlight = new AtomicInteger();

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
            drain();
        } catch (LedgerUnavailableException e) {
            LOG.debugf("shadow reviews not claimed: %s", e.getMessage());
        }
    }

    /**
     * Claims batch after batch while the queue fills them and every review of the last batch got its verdict, then
     * waits for the next tick. One claim per tick capped the reviews at {@code shadow-batch} per
     * {@code shadow-interval} (8 per second by default), below what a trusted stream samples at a few hundred steps
     * per second (3 % of 1,000 steps/s is 30 reviews/s): the backlog grew without end and the evidence, the
     * certificate and the drift detectors fell behind the traffic. The load on the foreground stays bounded by
     * {@code shadow-concurrency} interactive reviews in flight (and {@code batch-reviews-in-flight} batch-class
     * ones waiting for their provider batch); a failing reviewer ends the drain (its reviews back off).
     */
    public int[] drain() {
        int batch = Math.max(1, config.review().shadowBatch());
        int recorded = 0;
        int failed = 0;
        int claims = 0;
        while (!stopping) {
            Round once = round();
            claims++;
            recorded += once.recorded();
            failed += once.failed();
            // a claim of batch-class reviews is not waited for: their calls stay open until their provider batch
            // ends, so the drain stops adding to them at the limit (the next tick claims again)
            if (once.claimed() < batch || once.failed() > 0
                    || batchReviewsInFlight.get() >= config.review().batchReviewsInFlight()) {
                break;
            }
        }
        if (claims > 1) {
            LOG.infof("shadow reviews drained in %d claims: %d recorded, %d failed", claims, recorded, failed);
        }
        return new int[] { recorded, failed };
    }

    void onStop(@Observes ShutdownEvent event) {
        stopping = true;
    }

    /** One claim: how many tasks it took, and how many of its interactive reviews were recorded and failed. */
    record Round(int claimed, int recorded, int failed) {
    }

    /** Claims one batch and reviews it; returns {recorded, failed} of its interactive reviews ({@link #round}). */
    public int[] runOnce() {
        Round r = round();
        return new int[] { r.recorded(), r.failed() };
    }

    /**
     * Claims one batch and reviews it, waiting for the interactive reviews. The
     * reviews of BATCH-class steps go out as batch-class reviews and are not waited for: each waits for the
     * reviewer's provider batch (up to its task's batch window), held under a lease to the window's end so that no
     * other claim sends it again, and records its verdict when it comes.
     */
    Round round() {
        List<ReviewTask> claimed = queue.claim(ReviewQueue.MODEL, name, config.review().shadowBatch(), 0, null);
        if (claimed.isEmpty()) {
            return new Round(0, 0, 0);
        }
        AtomicInteger recorded = new AtomicInteger();
        AtomicInteger rejected = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        int batchClass = 0;
        Semaphore slots = new Semaphore(Math.max(1, config.review().shadowConcurrency()));
        List<Future<?>> running = new ArrayList<>();
        for (ReviewTask task : claimed) {
            DecisionRequest r = task.entry().request();
            if (r.reviewAsBatch(Instant.now())) {
                if (r.batchDeadline() != null) {
                    try {
                        queue.holdUntil(task, r.batchDeadline().plus(BATCH_LEASE_MARGIN));
                    } catch (RuntimeException e) {
                        // the claim's own lease stands: a later claim sends the review again with the same key,
                        // which joins this one at the router
                        LOG.warnf("could not hold %s to the end of its batch window: %s", r.decisionId(),
                                e.getMessage());
                    }
                }
                batchReviewsInFlight.incrementAndGet();
                executor.submit(() -> {
                    try {
                        attempt(task, true, new AtomicInteger(), new AtomicInteger(), new AtomicInteger());
                    } finally {
                        batchReviewsInFlight.decrementAndGet();
                    }
                });
                batchClass++;
                continue;
            }
            slots.acquireUninterruptibly();
            running.add(executor.submit(() -> {
                try {
                    attempt(task, false, recorded, rejected, failed);
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
        LOG.infof("shadow reviews: %d claimed, %d recorded (%d rejected), %d failed, %d sent as batch-class reviews",
                claimed.size(), recorded.get(), rejected.get(), failed.get(), batchClass);
        return new Round(claimed.size(), recorded.get(), failed.get());
    }

    /** One review: its verdict recorded, or the task released to the queue (back-off, then people). */
    private void attempt(ReviewTask task, boolean batch, AtomicInteger recorded, AtomicInteger rejected,
                         AtomicInteger failed) {
        try {
            if (review(task, batch)) {
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
        }
    }

    /**
     * True when the reviewer rejected the output. A batch-class review carries its task's latency class and batch
     * window (the router prices it at, and sends it through, the reviewer's batch path) and an idempotency key of its
     * own, so a review sent again after a failed wait joins the router's call still waiting for the batch instead of
     * becoming a second batch item.
     */
    private boolean review(ReviewTask task, boolean batch) {
        DecisionRequest r = task.entry().request();
        if (!r.taskId().isEmpty()) {
            MDC.put("taskId", r.taskId());
        }
        try {
            ReviewRequest.Builder request = ReviewRequest.newBuilder()
                    .setTaskId(r.taskId())
                    .setStepId(r.stepId())
                    .setWorkerType(r.stream().workerType())
                    .putAllInputs(r.inputs())
                    .setCandidateOutput(r.candidateOutput())
                    .setCandidateModelId(r.stream().workerBackend())
                    .setInstructions(r.instructions())
                    .setTenant(task.entry().tenant());
            Duration timeout = config.review().reviewTimeout();
            if (batch) {
                request.setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH);
                String key = r.decisionId() + KEY_SUFFIX;
                if (key.length() <= MAX_KEY_CHARS) {
                    request.setIdempotencyKey(key);
                }
                if (r.batchDeadline() != null) {
                    request.setBatchDeadline(Timestamp.newBuilder().setSeconds(r.batchDeadline().getEpochSecond())
                            .setNanos(r.batchDeadline().getNano()));
                    timeout = Duration.between(Instant.now(), r.batchDeadline());
                }
            }
            ReviewResponse response = router.review(request.build(), timeout);
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
