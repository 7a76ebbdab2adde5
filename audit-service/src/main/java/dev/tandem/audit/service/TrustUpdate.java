package dev.tandem.audit.service;

import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;

/**
 * A stream after one verdict; {@code changeReason} is null when the trust state did not change. {@code driftAlarm}
 * names the detector that fired ("outcome"), null when none did; {@code needsFit} when the new state needs a refit
 * of its policy (certification) before it decides.
 */
public record TrustUpdate(StreamRecord stream, TrustState previousState, String changeReason, String driftAlarm,
        boolean needsFit) {

    public boolean stateChanged() {
        return changeReason != null;
    }
}
