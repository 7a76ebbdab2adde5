package dev.tandem.audit.service;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;

/**
 * The decision policy of each stream as this replica last read or wrote it, so Decide needs no read of the
 * ledger. A replica's own changes (verdicts, refits, alarms) replace the entry at once; another replica's changes
 * bump {@code streams.policy_version}, which every committed decision batch reads back: an older cached version is
 * dropped and re-read before the next decision, and the periodic gauge refresh re-reads every stream too.
 */
@ApplicationScoped
public class StreamPolicies {

    private final Map<StreamKey, StreamRecord> cache = new ConcurrentHashMap<>();

    public StreamRecord get(StreamKey key) {
        return cache.get(key);
    }

    /** Keeps the newer of the cached and the given record (by policy version, then verdict version). */
    public void put(StreamRecord s) {
        cache.merge(s.key(), s, (old, fresh) -> fresh.policyVersion() > old.policyVersion()
                || (fresh.policyVersion() == old.policyVersion() && fresh.version() >= old.version()) ? fresh : old);
    }

    public void invalidateIfOlder(StreamKey key, long policyVersion) {
        cache.computeIfPresent(key, (k, cached) -> cached.policyVersion() < policyVersion ? null : cached);
    }

    public void clear() {
        cache.clear();
    }
}
