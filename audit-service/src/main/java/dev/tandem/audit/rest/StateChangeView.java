package dev.tandem.audit.rest;

import java.time.Instant;

import dev.tandem.audit.StateChange;

/** A trust-state change as the admin API shows it ({@code from} is null for a new stream). */
public record StateChangeView(
        long id,
        String workerBackend,
        String workerType,
        String tenant,
        String from,
        String to,
        String reason,
        String decisionId,
        Instant changedAt) {

    static StateChangeView of(StateChange c) {
        return new StateChangeView(c.id(), c.stream().workerBackend(), c.stream().workerType(), c.stream().tenant(),
                c.from() == null ? null : c.from().name(), c.to().name(), c.reason(), c.decisionId(), c.changedAt());
    }
}
