package dev.tandem.audit.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.scheduler.Scheduled;

import dev.tandem.audit.StreamRecord;

/**
 * The subscribers of WatchPolicies: each hears of every stream whose policy version this replica's cache
 * ({@link StreamPolicies}) takes in, and gets a heartbeat every {@code tandem.audit.policy-watch.heartbeat}.
 * <p>
 * A subscriber is registered before the full set is read and holds back what it hears until that set is sent
 * ({@link Watcher#start}), so no change between the read and the first message is lost; one heard twice (read in
 * the set and heard as it happened) carries a version the caller already holds, which it ignores.
 */
@ApplicationScoped
public class PolicyWatch {

    /** Where one subscription's messages go; {@link #changed} and {@link #heartbeat} must not block. */
    public abstract static class Watcher {

        private final List<StreamRecord> heldBack = new ArrayList<>();
        private boolean started;

        /** Sends the full set of policies, then whatever changed while it was being read. */
        public final synchronized void start(List<StreamRecord> fullSet) {
            sendFullSet(fullSet);
            heldBack.forEach(this::sendChanged);
            heldBack.clear();
            started = true;
        }

        final synchronized void changed(StreamRecord stream) {
            if (started) {
                sendChanged(stream);
            } else {
                heldBack.add(stream);
            }
        }

        final synchronized void heartbeat() {
            if (started) {
                sendHeartbeat();
            }
        }

        protected abstract void sendFullSet(List<StreamRecord> streams);

        protected abstract void sendChanged(StreamRecord stream);

        protected abstract void sendHeartbeat();
    }

    private final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();

    public PolicyWatch(StreamPolicies policies) {
        policies.onNewPolicy(stream -> watchers.forEach(w -> w.changed(stream)));
    }

    /** Registers a subscriber until the returned handle is run. */
    public Runnable add(Watcher watcher) {
        watchers.add(watcher);
        return () -> watchers.remove(watcher);
    }

    /** Subscribers now. */
    public int size() {
        return watchers.size();
    }

    @Scheduled(every = "${tandem.audit.policy-watch.heartbeat:5s}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void heartbeat() {
        watchers.forEach(Watcher::heartbeat);
    }
}
