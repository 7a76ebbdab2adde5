package dev.tandem.audit.service;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import jakarta.inject.Singleton;

import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;

/**
 * The decision policy of each stream as this replica last read or wrote it, so Decide needs no read of the
 * ledger. A replica's own changes (verdicts, refits, alarms) replace the entry at once; another replica's changes
 * bump {@code streams.policy_version}, which every committed decision batch reads back: an older cached version is
 * dropped and re-read before the next decision, and the periodic gauge refresh re-reads every stream too.
 * Whoever watches the policies ({@link PolicyWatch}) hears of every record that enters the cache with a policy
 * version it did not hold.
 */
// A singleton, not @ApplicationScoped: injected as itself, without the client proxy whose context look-up on every
// call was about 4 % of the service's CPU on the Decide path at 5,000/s (issue 16).
@Singleton
public class StreamPolicies {

    private final Map<StreamKey, StreamRecord> cache = new ConcurrentHashMap<>();
    private final List<Consumer<StreamRecord>> listeners = new CopyOnWriteArrayList<>();

    public StreamRecord get(StreamKey key) {
        return cache.get(key);
    }

    /** Keeps the newer of the cached and the given record (by policy version, then verdict version). */
    public void put(StreamRecord s) {
        boolean[] newPolicy = new boolean[1];
        cache.compute(s.key(), (key, old) -> {
            if (old == null) {
                newPolicy[0] = true;
                return s;
            }
            boolean newer = s.policyVersion() > old.policyVersion()
                    || (s.policyVersion() == old.policyVersion() && s.version() >= old.version());
            newPolicy[0] = newer && s.policyVersion() != old.policyVersion();
            return newer ? s : old;
        });
        if (newPolicy[0]) {
            // outside the map's lock: a listener must not hold up the next put of the stream
            listeners.forEach(l -> l.accept(s));
        }
    }

    /**
     * Tells {@code listener} of every record that enters the cache with a policy version the cache did not hold
     * (a new or re-read stream included), on the thread that put it: it must not block.
     */
    public void onNewPolicy(Consumer<StreamRecord> listener) {
        listeners.add(listener);
    }

    public void invalidateIfOlder(StreamKey key, long policyVersion) {
        cache.computeIfPresent(key, (k, cached) -> cached.policyVersion() < policyVersion ? null : cached);
    }

    public void clear() {
        cache.clear();
    }
}
