package dev.tandem.audit;

import java.util.Objects;

/** A stream: worker backend x worker type, per tenant ("" is the shared stream). */
public record StreamKey(String workerBackend, String workerType, String tenant) {

    public StreamKey {
        Objects.requireNonNull(workerBackend, "workerBackend");
        Objects.requireNonNull(workerType, "workerType");
        tenant = tenant == null ? "" : tenant;
    }

    @Override
    public String toString() {
        return workerBackend + "/" + workerType + (tenant.isEmpty() ? "" : "@" + tenant);
    }
}
