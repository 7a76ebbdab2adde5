package dev.tandem.router.service;

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
    RejectionKind rejectionKind;
    String rejection = "";
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
    }

    /** A copy with its rejection cleared and a new rank, for re-ranked selections (exploration). */
    CandidateEvaluation eligibleCopy(int newRank) {
        CandidateEvaluation c = new CandidateEvaluation(backend, p95Millis, errorRate, qualityEstimate,
                estimatedCostUsd, inFlight, rateLimitedForNanos);
        c.rank = newRank;
        return c;
    }

    CandidateEvaluation rankedCopy(int newRank) {
        CandidateEvaluation c = eligibleCopy(newRank);
        c.rejectionKind = rejectionKind;
        c.rejection = rejection;
        if (rejectionKind != null) {
            c.rank = 0;
        }
        return c;
    }

    void reject(RejectionKind kind, String reason) {
        rejectionKind = kind;
        rejection = reason;
    }

    void clearRejection() {
        rejectionKind = null;
        rejection = "";
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
        return rejection;
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
