package dev.tandem.oracle.service;

import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Wake-ups within one replica: a watcher of a task wakes when the task has a new event or ends here, and the
 * queue worker wakes when a task is submitted here. Only a shortcut: what happened is always read from the store,
 * and waiters poll it anyway for what other replicas do.
 */
@ApplicationScoped
public class TaskSignals {

    private final ConcurrentHashMap<String, Set<Semaphore>> watchers = new ConcurrentHashMap<>();
    private final Semaphore queue = new Semaphore(0);

    /** A wake-up for changes of the task; pass it to {@link #await} and {@link #unsubscribe}. */
    public Semaphore subscribe(String taskId) {
        var signal = new Semaphore(0);
        watchers.computeIfAbsent(taskId, id -> ConcurrentHashMap.newKeySet()).add(signal);
        return signal;
    }

    public void unsubscribe(String taskId, Semaphore signal) {
        watchers.computeIfPresent(taskId, (id, set) -> {
            set.remove(signal);
            return set.isEmpty() ? null : set;
        });
    }

    /** The task has a new event or a new state. */
    public void taskChanged(String taskId) {
        var set = watchers.get(taskId);
        if (set != null) {
            set.forEach(Semaphore::release);
        }
    }

    /** A task was queued. */
    public void taskQueued() {
        queue.release();
    }

    /** Waits until the task changes or the time passes. */
    public static void await(Semaphore signal, Duration atMost) throws InterruptedException {
        if (signal.tryAcquire(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
            signal.drainPermits();
        }
    }

    /** Waits until a task is queued here or the time passes. */
    void awaitQueued(Duration atMost) throws InterruptedException {
        await(queue, atMost);
    }
}
