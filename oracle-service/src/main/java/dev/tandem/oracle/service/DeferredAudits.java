package dev.tandem.oracle.service;

import dev.tandem.proto.audit.v1.LocalDecision;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The steps of one task whose audit decision was taken locally and not stored yet: the task's answer waits until
 * {@link StepRunner#settle} has recorded them all in one RecordDecisions batch and acted on the stored decisions.
 */
public final class DeferredAudits {

    /** A finished step waiting for its stored decision since {@code deferredAt} (System.nanoTime()). */
    record Deferred(StepRunner.Held held, LocalDecision decision, long deferredAt) {
    }

    private final ConcurrentLinkedQueue<Deferred> waiting = new ConcurrentLinkedQueue<>();

    void add(StepRunner.Held held, LocalDecision decision) {
        waiting.add(new Deferred(held, decision, System.nanoTime()));
    }

    /** Everything deferred so far, removed from here. */
    List<Deferred> drain() {
        var out = new ArrayList<Deferred>();
        for (Deferred d; (d = waiting.poll()) != null; ) {
            out.add(d);
        }
        return out;
    }
}
