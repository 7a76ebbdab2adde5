package dev.tandem.audit;

import java.time.Instant;

/** A trust-state change of a stream ({@code from} is null when the stream was created). */
public record StateChange(
        long id,
        StreamKey stream,
        TrustState from,
        TrustState to,
        String reason,
        String decisionId,
        Instant changedAt) {
}
