package dev.tandem.audit.service;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.ReviewMode;
import dev.tandem.audit.Verdict;
import dev.tandem.audit.WindowEntry;
import dev.tandem.audit.simulation.SimulatedWorker;

/** A trusted stream's output as the refit reads it: passed, or shadow-reviewed as a certification sample. */
final class TrustedOutputs {

    private TrustedOutputs() {
    }

    /** The output {@code o}, drawn into the certification sample at rate {@code f} when {@code sampled}. */
    static WindowEntry entry(String id, long seq, SimulatedWorker.Output o, double f, boolean sampled) {
        return new WindowEntry(id, seq, o.raw(), true, sampled ? AuditAction.REVIEW : AuditAction.PASS,
                sampled ? ReviewMode.SHADOW : ReviewMode.NONE, sampled ? AuditReason.RANDOM_SAMPLE : AuditReason.TRUSTED,
                f, 0, sampled, sampled ? (o.wrong() ? Verdict.REJECTED : Verdict.ACCEPTED) : null);
    }
}
