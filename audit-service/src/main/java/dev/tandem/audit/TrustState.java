package dev.tandem.audit;

/** Inspection level of a stream; the numbers match {@code tandem.audit.v1.TrustState} (used by the state gauge). */
public enum TrustState {
    PROBATION(1),
    NORMAL(2),
    REDUCED(3),
    TIGHTENED(4),
    SUSPENDED(5);

    private final int number;

    TrustState(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    /** Every output is reviewed in these states, whatever its confidence. */
    public boolean reviewsEverything() {
        return this == PROBATION || this == TIGHTENED || this == SUSPENDED;
    }
}
