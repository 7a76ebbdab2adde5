package dev.tandem.router.learning;

import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamStatus;

/** The stream a {@link StreamStatus} describes, from an audit service of either v1 revision. */
final class AuditStreamKeys {

    private AuditStreamKeys() {
    }

    /** Its {@code key}, or, from an audit service of the first v1, the three fields that preceded it. */
    @SuppressWarnings("deprecation")
    static StreamKey of(StreamStatus s) {
        return s.hasKey() ? s.getKey() : StreamKey.newBuilder().setWorkerBackend(s.getWorkerBackend())
                .setWorkerType(s.getWorkerType()).setTenant(s.getTenant()).build();
    }
}
