package dev.tandem.audit.service;

import dev.tandem.audit.StreamRecord;

/** A stored verdict and the stream after it; {@code duplicate} when the same verdict had been recorded. */
public record VerdictOutcome(boolean duplicate, StreamRecord stream) {
}
