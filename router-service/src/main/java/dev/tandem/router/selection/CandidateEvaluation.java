package dev.tandem.router.selection;

import static dev.tandem.router.selection.SelectionExplanation.fmt2;
import static dev.tandem.router.selection.SelectionExplanation.usd;

import dev.tandem.router.budget.Budget;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.learning.StreamOutlooks;

/** One (model, pool) candidate as selection saw it: its measurements and either a rank or a rejection. */
public final class CandidateEvaluation {

    private final Backend backend;
    final double p95Millis;
    final double errorRate;
    final QualityEstimate qualityEstimate;
    final double quality;
    final double estimatedCostUsd;
    final int inFlight;
    final long rateLimitedForNanos;
    // the cost model: what the step is expected to cost on this candidate once reviews and escalations are paid
    double expectedCostUsd;
    double reviewProbability;
    double rejectProbability;
    double reviewCostUsd;
    double reviewWorstUsd;
    double escalationCostUsd;
    double oracleCostUsd;
    StreamOutlooks.Outlook outlook = StreamOutlooks.Outlook.NOT_AUDITED;
    // priced at the model's batch prices (a BATCH-class step on a model that offers a batch path)
    boolean batchPrice;
    RejectionKind rejectionKind;
    // the rejection's text is rendered on first read: selection rejects most candidates and shows only a few
    private String rejection = "";
    private String detail;
    private double bound;
    private Object context;
    int rank;

    CandidateEvaluation(Backend backend, double p95Millis, double errorRate, QualityEstimate quality,
                        double estimatedCostUsd, int inFlight, long rateLimitedForNanos) {
        this.backend = backend;
        this.p95Millis = p95Millis;
        this.errorRate = errorRate;
        this.qualityEstimate = quality;
        this.quality = quality.value();
        this.estimatedCostUsd = estimatedCostUsd;
        this.inFlight = inFlight;
        this.rateLimitedForNanos = rateLimitedForNanos;
        this.expectedCostUsd = estimatedCostUsd;
    }

    /**
     * Prices the candidate's expected reviews and escalations: expected = estimated + P(review) x review +
     * P(reject) x escalation; {@code oracleUsd} is what the oracle model would charge for the step directly.
     */
    void price(StreamOutlooks.Outlook o, double pReview, double pReject, double reviewUsd, double reviewWorst,
               double escalationUsd, double oracleUsd) {
        outlook = o;
        reviewWorstUsd = reviewWorst;
        reviewProbability = pReview;
        rejectProbability = pReject;
        reviewCostUsd = reviewUsd;
        escalationCostUsd = escalationUsd;
        oracleCostUsd = oracleUsd;
        expectedCostUsd = estimatedCostUsd + pReview * reviewUsd + pReject * escalationUsd;
    }

    private void copyPricing(CandidateEvaluation c) {
        c.outlook = outlook;
        c.reviewProbability = reviewProbability;
        c.rejectProbability = rejectProbability;
        c.reviewCostUsd = reviewCostUsd;
        c.reviewWorstUsd = reviewWorstUsd;
        c.escalationCostUsd = escalationCostUsd;
        c.oracleCostUsd = oracleCostUsd;
        c.expectedCostUsd = expectedCostUsd;
        c.batchPrice = batchPrice;
    }

    /**
     * The most the step can cost on this candidate over the oracle's direct price: execution, a review whenever one
     * can happen, and an escalation whenever a rejection can (what the exploration budget must be able to absorb).
     */
    public double worstOverspendUsd() {
        return estimatedCostUsd + (reviewProbability > 0 ? reviewWorstUsd : 0)
                + (rejectProbability > 0 ? escalationCostUsd : 0) - oracleCostUsd;
    }

    /** True for the oracle tier, whose outputs the audit does not review. */
    public boolean oracleDirect() {
        return backend.model().tier() == ModelTier.ORACLE;
    }

    /** A copy with its rejection cleared and a new rank, for re-ranked selections (exploration). */
    CandidateEvaluation eligibleCopy(int newRank) {
        CandidateEvaluation c = new CandidateEvaluation(backend, p95Millis, errorRate, qualityEstimate,
                estimatedCostUsd, inFlight, rateLimitedForNanos);
        copyPricing(c);
        c.rank = newRank;
        return c;
    }

    CandidateEvaluation rankedCopy(int newRank) {
        CandidateEvaluation c = eligibleCopy(newRank);
        c.rejectionKind = rejectionKind;
        c.rejection = rejectionKind == null ? "" : rejection();
        if (rejectionKind != null) {
            c.rank = 0;
        }
        return c;
    }

    void reject(RejectionKind kind, String reason) {
        rejectionKind = kind;
        rejection = reason;
    }

    /** A rejection whose text is rendered when read, from the kind and its detail, bound and context. */
    void reject(RejectionKind kind, String detail, double bound, Object context) {
        rejectionKind = kind;
        rejection = null;
        this.detail = detail;
        this.bound = bound;
        this.context = context;
    }

    void clearRejection() {
        rejectionKind = null;
        rejection = "";
    }

    private String render() {
        return switch (rejectionKind) {
            case EXCLUDED -> "model excluded by the request";
            case WORKER_TYPE -> "model does not serve worker type '" + detail + "'";
            case CAPABILITY -> "lacks capability '" + detail + "'";
            case CONTEXT_WINDOW -> "context window " + backend.model().contextTokens() + " tokens under required "
                    + (long) bound;
            case TIER -> "tier " + backend.model().tier() + " below required " + detail;
            case RESIDENCY -> "lacks residency tag '" + detail + "'";
            case CIRCUIT_OPEN -> "circuit open for backend " + backend.key();
            case RATE_LIMITED -> "rate limited by the backend for another "
                    + Math.max(1, Math.round(rateLimitedForNanos / 1e6)) + " ms (its retry delay)";
            case POOL_FULL -> "pool '" + backend.pool().id() + "' full (" + inFlight + "/" + backend.pool().capacity()
                    + " in flight)";
            case LATENCY -> "p95 " + Math.round(p95Millis) + " ms over latency target " + Math.round(bound) + " ms";
            case QUALITY -> "quality " + fmt2(quality) + " (" + qualityEstimate.source().label()
                    + ") under target " + fmt2(bound) + " for '" + detail + "'";
            case BUDGET -> "estimated cost " + usd(estimatedCostUsd) + " over the "
                    + ((Budget) context).describe();
            case ERROR_TARGET -> "stream " + outlook.state() + " is certified for outgoing error "
                    + fmt2(100 * outlook.targetErrorRate()) + " %, looser than the step's "
                    + fmt2(100 * bound) + " %";
            case EXPLORATION_BUDGET, RETIRED -> detail;
        };
    }

    double load() {
        int capacity = backend.pool().capacity();
        return capacity <= 0 ? 1 : (double) inFlight / capacity;
    }

    public Backend backend() {
        return backend;
    }

    public boolean eligible() {
        return rejectionKind == null;
    }

    public RejectionKind rejectionKind() {
        return rejectionKind;
    }

    public String rejection() {
        String r = rejection;
        if (r == null) {
            r = render();
            rejection = r;
        }
        return r;
    }

    public int rank() {
        return rank;
    }

    public double p95Millis() {
        return p95Millis;
    }

    public double errorRate() {
        return errorRate;
    }

    public double quality() {
        return quality;
    }

    public QualityEstimate qualityEstimate() {
        return qualityEstimate;
    }

    public double estimatedCostUsd() {
        return estimatedCostUsd;
    }

    public double expectedCostUsd() {
        return expectedCostUsd;
    }

    public double reviewProbability() {
        return reviewProbability;
    }

    public double rejectProbability() {
        return rejectProbability;
    }

    public double reviewCostUsd() {
        return reviewCostUsd;
    }

    public double reviewWorstUsd() {
        return reviewWorstUsd;
    }

    public double escalationCostUsd() {
        return escalationCostUsd;
    }

    public double oracleCostUsd() {
        return oracleCostUsd;
    }

    /** Whether the candidate is priced at its batch prices. */
    public boolean batchPrice() {
        return batchPrice;
    }

    public StreamOutlooks.Outlook outlook() {
        return outlook;
    }

    /** Trust state of the candidate's stream as shown in decisions ("oracle" for the oracle tier). */
    public String trustState() {
        return oracleDirect() ? "oracle" : outlook.state();
    }

    public int inFlight() {
        return inFlight;
    }

    public int capacity() {
        return backend.pool().capacity();
    }

    public double rateLimitedForMillis() {
        return rateLimitedForNanos / 1e6;
    }
}
