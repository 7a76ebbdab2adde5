package dev.tandem.oracle.service;

import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.repository.SubmittedTaskRepository;
import dev.tandem.oracle.repository.SubmittedTaskRepository.ClaimedTask;
import dev.tandem.oracle.repository.SubmittedTaskRepository.StoredStep;
import dev.tandem.oracle.repository.TaskStoreUnavailableException;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.worker.v1.LatencyClass;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs submitted tasks from the store, at most {@code tandem.oracle.tasks.submitted.max-running} at once on this
 * replica. A task is claimed with a lease ({@code FOR UPDATE SKIP LOCKED}, so two replicas never claim the same
 * one), renewed every third of the lease while it runs; a task whose replica died is claimed again once its lease
 * has expired and resumes from its stored plan and completed steps ({@link TaskJournal}): only the steps that had
 * not completed run again. A task that loses its lease (cancelled, or resumed elsewhere) is stopped here, its
 * in-flight downstream calls cancelled with it. On shutdown the replica stops claiming, gives its running tasks
 * {@code shutdown-grace} to finish and hands the rest back to the queue.
 */
@ApplicationScoped
public class TaskQueueWorker {

    private static final Logger LOG = Logger.getLogger(TaskQueueWorker.class);

    /**
     * Why a run's context was cancelled when the task is no longer this replica's. CANCELLED, like the reason
     * below, so that the step whose call it ends is not escalated to the oracle tier as a failure would be.
     */
    private static final Throwable LOST = Status.CANCELLED.withDescription("the task was cancelled or resumed by "
            + "another replica").asRuntimeException();
    /** Why a run's context was cancelled when the replica stops. */
    private static final Throwable SHUTDOWN = Status.CANCELLED.withDescription("the oracle replica is stopping")
            .asRuntimeException();

    private final SubmittedTaskRepository store;
    private final TaskRunner runner;
    private final TaskSignals signals;
    private final OracleMetrics metrics;
    private final OracleConfig.Submitted config;
    private final TaskRequestBounds bounds;
    private final String replicaId;
    private final Semaphore slots;
    private final Map<String, Context.CancellableContext> running = new ConcurrentHashMap<>();
    private volatile boolean stopping;
    private Thread loop;

    public TaskQueueWorker(SubmittedTaskRepository store, TaskRunner runner, TaskSignals signals,
            OracleMetrics metrics, OracleConfig config, TaskRequestBounds bounds) {
        this.store = store;
        this.bounds = bounds;
        this.runner = runner;
        this.signals = signals;
        this.metrics = metrics;
        this.config = config.tasks().submitted();
        this.replicaId = this.config.replicaId().orElseGet(TaskQueueWorker::defaultReplicaId);
        this.slots = new Semaphore(Math.max(1, this.config.maxRunning()));
    }

    void start(@Observes StartupEvent event) {
        if (!config.run()) {
            LOG.info("submitted tasks: this replica accepts and serves them but does not run them");
            return;
        }
        LOG.infof("submitted tasks: replica %s runs up to %d at once (lease %s)", replicaId, config.maxRunning(),
                config.lease());
        loop = Thread.ofVirtual().name("submitted-tasks").start(this::claimLoop);
    }

    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        stopping = true;
        if (loop == null) {
            return;
        }
        loop.interrupt();
        int max = Math.max(1, config.maxRunning());
        if (!slots.tryAcquire(max, config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
            LOG.infof("stopping: handing %d running task(s) back to the queue", running.size());
            running.values().forEach(ctx -> ctx.cancel(SHUTDOWN));
            slots.tryAcquire(max, 5, TimeUnit.SECONDS);
        }
    }

    /** The id this replica's leases carry. */
    public String replicaId() {
        return replicaId;
    }

    /** Stops the task if it runs here (its client cancelled it); true when it did. */
    public boolean stopLocally(String taskId) {
        var ctx = running.get(taskId);
        if (ctx == null) {
            return false;
        }
        ctx.cancel(LOST);
        return true;
    }

    /** Whether a run of the task is going on on this replica. */
    public boolean runsHere(String taskId) {
        return running.containsKey(taskId);
    }

    /** Reads the tasks by state from the store into the gauges. */
    public void refreshGauges() {
        metrics.submittedTasks(store.countByState());
    }

    private void claimLoop() {
        var renewEvery = config.lease().dividedBy(3);
        long nextRenewal = System.nanoTime() + renewEvery.toNanos();
        long nextGauge = 0;
        while (!stopping) {
            try {
                if (System.nanoTime() >= nextRenewal) {
                    renewLeases();
                    nextRenewal = System.nanoTime() + renewEvery.toNanos();
                }
                if (System.nanoTime() >= nextGauge) {
                    refreshGauges();
                    nextGauge = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                }
                var wait = min(config.pollInterval(), renewEvery);
                if (!slots.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                    continue; // every slot busy: renew the leases and look again
                }
                Optional<ClaimedTask> claimed;
                try {
                    claimed = store.claimNext(replicaId, config.lease());
                } catch (RuntimeException e) {
                    slots.release();
                    throw e;
                }
                if (claimed.isEmpty()) {
                    slots.release();
                    signals.awaitQueued(wait);
                    continue;
                }
                if (stopping) { // claimed while the replica began to stop: back to the queue, untouched
                    store.release(claimed.get().taskId(), replicaId);
                    slots.release();
                    return;
                }
                start(claimed.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.warnf("submitted tasks: %s; retrying in %s", e.getMessage(), config.pollInterval());
                try {
                    Thread.sleep(config.pollInterval().toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void renewLeases() {
        if (running.isEmpty()) {
            return;
        }
        for (var lost : store.renewLeases(replicaId, List.copyOf(running.keySet()), config.lease())) {
            var ctx = running.get(lost);
            if (ctx != null) {
                LOG.infof("task %s is no longer this replica's (cancelled or resumed elsewhere): stopping it", lost);
                ctx.cancel(LOST);
            }
        }
    }

    private void start(ClaimedTask task) {
        var ctx = Context.ROOT.withCancellation();
        running.put(task.taskId(), ctx);
        Thread.ofVirtual().name("task-" + task.taskId()).start(() -> {
            try {
                ctx.run(() -> execute(task, ctx));
            } finally {
                running.remove(task.taskId());
                ctx.cancel(null);
                slots.release();
                signals.taskChanged(task.taskId());
            }
        });
    }

    private void execute(ClaimedTask task, Context.CancellableContext ctx) {
        var id = task.taskId();
        if (task.attempts() > 1) {
            LOG.infof("task %s resumes (run %d): %d step(s) completed before", id, task.attempts(),
                    task.completedSteps().size());
        }
        if (announcedBefore(task)) {
            return;
        }
        var ended = new AtomicBoolean();
        var events = new TaskEvents(id, event -> {
            if (event.hasTaskDone()) {
                // the answer and the task's end in one write: whoever has seen the answer finds the task ended
                ended.set(true);
                if (!store.succeedAnnouncing(event, replicaId)) {
                    LOG.infof("task %s finished, but it was cancelled or resumed elsewhere meanwhile", id);
                }
            } else if (!store.appendEvent(event, replicaId)) {
                // cancelled, or resumed elsewhere, before a lease renewal told: stop now (a step cut off this way
                // is not escalated)
                ctx.cancel(LOST);
            }
            signals.taskChanged(id);
        }, task.lastSequence());
        try {
            var response = runner.run(id, task.request(), deadline(task), events, new StoredJournal(task));
            if (!ended.get() && !store.succeed(id, replicaId, response)) {
                LOG.infof("task %s finished, but it was cancelled or resumed elsewhere meanwhile", id);
            }
        } catch (RuntimeException e) {
            if (ctx.isCancelled() && ctx.cancellationCause() == SHUTDOWN) {
                store.release(id, replicaId); // another replica (or this one restarted) resumes it
                return;
            }
            if (TaskStoreUnavailableException.causedBy(e)) {
                // not the task's failure: it stays RUNNING in the store and resumes when its lease expires
                LOG.warnf("task %s stopped: %s; it resumes once its lease expires", id, e.getMessage());
                return;
            }
            var status = e instanceof StatusRuntimeException sre ? sre.getStatus()
                    : e instanceof InvalidTaskException ? Status.INVALID_ARGUMENT.withDescription(e.getMessage())
                    : Status.INTERNAL.withDescription(e.getMessage());
            if (!store.fail(id, replicaId, status.getCode().name(), String.valueOf(status.getDescription()))) {
                LOG.infof("task %s stopped: it was cancelled or resumed elsewhere", id);
            }
        }
    }

    /**
     * Whether a dead run had already finished the task: its last stored event is the task's answer (task_done), but
     * the run died before it stored the task's end (builds that stored the two in separate writes could leave a
     * task so; answer and end are one write now). The answer is then stored as the end, as announced, instead of
     * being synthesised, and announced, a second time (a watcher would see two task_done events).
     */
    private boolean announcedBefore(ClaimedTask task) {
        if (task.attempts() <= 1 || task.lastSequence() <= 0) {
            return false;
        }
        var last = store.events(task.taskId(), task.lastSequence() - 1, 1);
        if (last.isEmpty() || !last.getFirst().hasTaskDone()) {
            return false;
        }
        LOG.infof("task %s was answered by its earlier run, which stopped before storing its end: stored now",
                task.taskId());
        if (!store.succeed(task.taskId(), replicaId, last.getFirst().getTaskDone().getResponse())) {
            LOG.infof("task %s was cancelled or resumed elsewhere meanwhile", task.taskId());
        }
        return true;
    }

    /**
     * A BATCH-class task's deadline: its batch window from when it was submitted (a resumed task keeps it, so a
     * restart does not extend it); none for the other classes, which run at once.
     */
    private Deadline deadline(ClaimedTask task) {
        if (task.request().getLatencyClass() != LatencyClass.LATENCY_CLASS_BATCH) {
            return null;
        }
        var end = task.submittedAt().plus(bounds.batchWindow(task.request()));
        long left = Math.max(0, Duration.between(Instant.now(), end).toNanos());
        return Deadline.after(left, TimeUnit.NANOSECONDS);
    }

    /** The journal of a claimed task: its stored plan and steps, and the store for what it does next. */
    private final class StoredJournal implements TaskJournal {

        private final ClaimedTask task;
        private final Map<String, StepOutcome> completed = new HashMap<>();

        StoredJournal(ClaimedTask task) {
            this.task = task;
            for (var s : task.completedSteps()) {
                completed.put(s.result().getStepId(), new StepOutcome(s.result(), s.oracleBaselineUsd(),
                        s.explorationUsd()));
            }
        }

        @Override
        public Optional<StoredPlan> plan() {
            return task.plan().map(p -> new StoredPlan(p, task.planningUsd()));
        }

        @Override
        public Map<String, StepOutcome> completedSteps() {
            return completed;
        }

        @Override
        public void planned(Plan plan, double planningUsd) {
            if (!store.savePlan(task.taskId(), replicaId, plan, planningUsd)) {
                throw lost();
            }
        }

        @Override
        public void stepCompleted(StepOutcome outcome) {
            if (!store.saveStep(task.taskId(), replicaId, new StoredStep(outcome.result(),
                    outcome.oracleBaselineUsd(), outcome.explorationUsd()))) {
                throw lost();
            }
        }

        private StatusRuntimeException lost() {
            return Status.ABORTED.withDescription("task " + task.taskId() + " was cancelled or resumed by another "
                    + "replica").asRuntimeException();
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String defaultReplicaId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "oracle";
        }
        return host + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
