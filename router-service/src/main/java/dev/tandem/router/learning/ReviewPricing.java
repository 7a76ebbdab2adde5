package dev.tandem.router.learning;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.router.budget.ExplorationBudget;
import dev.tandem.router.catalog.ModelProfile;

/**
 * What a review and an escalation cost for a worker type, learned from the reviews the router routes, as a ratio to
 * the reviewed step's oracle baseline (the oracle's price for the tokens the step really used). A ratio, not an
 * amount: the selection's token estimates can be far off (a summary's output estimate against a short real one),
 * and the review and the baseline are off together, so their ratio carries over to the next step's estimate. The
 * expected review price is the mean ratio of the worker type's latest reviews (exponentially weighted) x the step's
 * estimated oracle price; the worst case, which the exploration budget must be able to absorb, is the largest of
 * the last {@link #RECENT} ratios. Until {@link #MIN_SAMPLES} reviews were seen both come from the oracle model's
 * token prices (the reviewer reads the inputs and the candidate and writes its verdict and its own output).
 * <p>
 * An escalation costs a redo on the oracle only when the rejecting review did not carry the reviewer's own output:
 * Tandem's reviewer always answers with it (the worker contract's {@code reviewer_output}), so the share of such
 * rejections starts at 0 and is learned from the rejections seen; a rejection without an output still reserves its
 * redo in the exploration budget the moment it is seen ({@link ExplorationBudget#reviewed}).
 */
@ApplicationScoped
public class ReviewPricing {

    static final int MIN_SAMPLES = 5;
    static final int RECENT = 20;
    private static final double WEIGHT = 0.1;

    /** Learned figures of one worker type. */
    static final class Learned {
        double meanRatio;
        final double[] recent = new double[RECENT];
        long reviews;
        double redoShare;
        long rejections;

        double maxRatio() {
            double max = 0;
            for (int i = 0; i < Math.min(reviews, RECENT); i++) {
                max = Math.max(max, recent[i]);
            }
            return max;
        }
    }

    private final Map<String, Learned> byWorkerType = new ConcurrentHashMap<>();

    /** The expected price of one review of a step with these token counts. */
    public double reviewUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        if (oracle == null) {
            return 0;
        }
        Learned l = byWorkerType.get(workerType);
        if (l != null && l.reviews >= MIN_SAMPLES) {
            return l.meanRatio * oracle.costUsd(inputTokens, outputTokens, 0);
        }
        return estimate(oracle, inputTokens, outputTokens);
    }

    /** The most one review of such a step is expected to cost: the largest recent ratio (the estimate until then). */
    public double reviewWorstUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
        if (oracle == null) {
            return 0;
        }
        Learned l = byWorkerType.get(workerType);
        if (l != null && l.reviews >= MIN_SAMPLES) {
            return l.maxRatio() * oracle.costUsd(inputTokens, outputTokens, 0);
        }
        return estimate(oracle, inputTokens, outputTokens);
    }

    private static double estimate(ModelProfile oracle, long inputTokens, long outputTokens) {
        return oracle.costUsd(inputTokens + outputTokens, outputTokens, 0);
    }

    /** The expected price of escalating a rejected output, given the oracle's price for the step. */
    public double escalationUsd(String workerType, double oracleUsd) {
        Learned l = byWorkerType.get(workerType);
        double share = l != null && l.rejections >= MIN_SAMPLES ? l.redoShare : 0.0;
        return share * oracleUsd;
    }

    /**
     * One review the router routed: its cost against the reviewed step's oracle baseline (0 when the step is not
     * known: then only the rejection counts), and whether it rejected without the reviewer's own output.
     */
    public void reviewed(String workerType, double costUsd, double stepBaselineUsd, boolean rejected,
                         boolean withReviewerOutput) {
        Learned l = byWorkerType.computeIfAbsent(workerType, k -> new Learned());
        synchronized (l) {
            if (stepBaselineUsd > 0) {
                double ratio = costUsd / stepBaselineUsd;
                l.meanRatio = l.reviews == 0 ? ratio
                        : l.meanRatio + Math.max(WEIGHT, 1.0 / (l.reviews + 1)) * (ratio - l.meanRatio);
                l.recent[(int) (l.reviews % RECENT)] = ratio;
                l.reviews++;
            }
            if (rejected) {
                double redo = withReviewerOutput ? 0 : 1;
                l.redoShare = l.rejections == 0 ? redo : l.redoShare + Math.max(WEIGHT, 1.0 / (l.rejections + 1))
                        * (redo - l.redoShare);
                l.rejections++;
            }
        }
    }
}
