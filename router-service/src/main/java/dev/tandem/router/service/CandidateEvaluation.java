package dev.tandem.router.service;

/** One (model, pool) candidate as selection saw it: its measurements and either a rank or a rejection. */
public final class CandidateEvaluation {

    private final Backend backend;
    final double p95Millis;
    final double quality;
    final double estimatedCostUsd;
    final int inFlight;
    RejectionKind rejectionKind;
    String rejection = "";
    int rank;

    CandidateEvaluation(Backend backend, double p95Millis, double quality, double estimatedCostUsd, int inFlight) {
        this.backend = backend;
        this.p95Millis = p95Millis;
        this.quality = quality;
        this.estimatedCostUsd = estimatedCostUsd;
        this.inFlight = inFlight;
    }

    void reject(RejectionKind kind, String reason) {
        rejectionKind = kind;
        rejection = reason;
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

    public double quality() {
        return quality;
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
}
