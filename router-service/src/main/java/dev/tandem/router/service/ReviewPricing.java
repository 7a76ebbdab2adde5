package dev.tandem.router.service;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * What a review and an escalation cost for a worker type, learned from the reviews the router routes. A review's
 * price is the mean of the latest reviews of the worker type (exponentially weighted), estimated from the oracle
 * model's token prices until {@link #MIN_SAMPLES} were seen: the reviewer reads the inputs and the candidate and
 * writes its verdict and its own output. An escalation costs a redo on the oracle only when the rejecting review did
 * not carry the reviewer's own output (then the oracle re-runs the step): Tandem's reviewer always answers with it
 * (the worker contract's {@code reviewer_output}), so the share of such rejections starts at 0 and is learned the
 * same way from the rejections seen. A rejection without an output still reserves its redo in the exploration
 * budget the moment it is seen ({@link ExplorationBudget#reviewed}).
 */
@ApplicationScoped
public class ReviewPricing {

    static final int MIN_SAMPLES = 5;
    private static final double WEIGHT = 0.1;

    /** Learned figures of one worker type. */
    static final class Learned {
        double reviewUsd;
        long reviews;
        double redoShare;
        long rejections;
    }

    private final Map<String, Learned> byWorkerType = new ConcurrentHashMap<>();

    /** The price of one review of a step with these token counts. */
    public double reviewUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        Learned l = byWorkerType.get(workerType);
        if (l != null && l.reviews >= MIN_SAMPLES) {
            return l.reviewUsd;
        }
        return oracle == null ? 0 : oracle.costUsd(inputTokens + outputTokens, outputTokens, 0);
    }

    /** The expected price of escalating a rejected output, given the oracle's price for the step. */
    public double escalationUsd(String workerType, double oracleUsd) {
        Learned l = byWorkerType.get(workerType);
        double share = l != null && l.rejections >= MIN_SAMPLES ? l.redoShare : 0.0;
        return share * oracleUsd;
    }

    /** One review the router routed: its cost, and whether it rejected without the reviewer's own output. */
    public void reviewed(String workerType, double costUsd, boolean rejected, boolean withReviewerOutput) {
        Learned l = byWorkerType.computeIfAbsent(workerType, k -> new Learned());
        synchronized (l) {
            l.reviewUsd = l.reviews == 0 ? costUsd : l.reviewUsd + Math.max(WEIGHT, 1.0 / (l.reviews + 1))
                    * (costUsd - l.reviewUsd);
            l.reviews++;
            if (rejected) {
                double redo = withReviewerOutput ? 0 : 1;
                l.redoShare = l.rejections == 0 ? redo : l.redoShare + Math.max(WEIGHT, 1.0 / (l.rejections + 1))
                        * (redo - l.redoShare);
                l.rejections++;
            }
        }
    }

    /** Reviews seen for the worker type. */
    public long reviews(String workerType) {
        Learned l = byWorkerType.get(workerType);
        return l == null ? 0 : l.reviews;
    }
}
