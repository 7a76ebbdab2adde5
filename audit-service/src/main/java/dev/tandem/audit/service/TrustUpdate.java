package dev.tandem.audit.service;

import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;

/**
 * A stream after one verdict; {@code changeReason} is null when the trust state did not change.
 */
public record TrustUpdate(StreamRecord stream, TrustState previousState, String changeReason) {

    public boolean stateChanged() {
        return changeReason != null;
    }
}
