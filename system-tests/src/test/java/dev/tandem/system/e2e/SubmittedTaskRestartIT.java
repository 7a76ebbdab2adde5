package dev.tandem.system.e2e;

import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.GetTaskRequest;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.SubmitTaskRequest;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.proto.oracle.v1.TaskState;
import dev.tandem.proto.oracle.v1.WatchTaskRequest;
import dev.tandem.system.launch.E2eConfig;
import dev.tandem.system.launch.MetricsText;
import dev.tandem.system.launch.ServiceProcess;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Submitted tasks survive the oracle being killed (SIGKILL, no shutdown) twice while they run: the four services
 * as processes (audit, worker and router those of the shared {@link E2eStack}, the oracle one of this class's own,
 * with its task store in a database of its own), the oracle restarted on the same database. Every task completes
 * exactly once, tasks caught mid-task resume from their completed steps, no completed step is started again
 * (checked against the stored step completion times and the stored events), and nothing is paid twice: the
 * worker's model calls and reviews during this class (its metrics) are what one run of the stored steps needs and
 * one per verdict the audit ledger gained.
 */
@ExtendWith(E2eStack.Shared.class)
@Order(3) // after TandemEndToEndIT, which needs the shared stack's ledger fresh
class SubmittedTaskRestartIT {

    /** The task store of this class's oracle, apart from the shared stack's (whose oracle would take its tasks). */
    static final String DB = E2eStack.DB + "_restarts";
    static final String PG = E2eStack.PG;
    static final int TASKS = 16;
    static final int STEPS = 5; // the triage pipeline: classify, extract, summarize, validate-extract, validate-summary

    static ServiceProcess oracle;
    static ManagedChannel channel;

    @BeforeAll
    static void startTandem() throws Exception {
        ServiceProcess.freshDatabase(PG, DB);
        var stack = E2eStack.current();
        int oraclePort = ServiceProcess.freePort();
        var oracleConfig = E2eConfig.oracle(PG + DB, stack.routerPort(), stack.auditPort());
        // a short lease, so a killed replica's tasks resume within seconds; few at once, so most wait queued
        oracleConfig.put("tandem.oracle.tasks.submitted.lease", "3s");
        oracleConfig.put("tandem.oracle.tasks.submitted.max-running", "3");
        oracleConfig.put("tandem.oracle.tasks.submitted.poll-interval", "200ms");
        oracle = new ServiceProcess("oracle-service", oraclePort, oracleConfig, "oracle-service-restarts");
        ServiceProcess.startAll(Duration.ofSeconds(90), oracle);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", oraclePort).usePlaintext().build();
    }

    @AfterAll
    static void stopTandem() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        ServiceProcess.closeAll(oracle); // the shared stack's services are E2eStack's to stop
    }

    @Test
    void tasksCaughtMidRunByAKilledOracleCompleteExactlyOnceWithoutRerunningCompletedSteps() throws Exception {
        // what the shared worker and ledger held before (the end-to-end suite ran on them): counted from here
        var worker = E2eStack.current().worker;
        long stepCallsBefore;
        long reviewsBefore;
        long verdictsBefore;
        try (var ledger = DriverManager.getConnection(PG + E2eStack.DB, "postgres", "")) {
            awaitShadowQueueEmpty(ledger);
            stepCallsBefore = stepCalls(worker);
            reviewsBefore = metric(worker, "tandem_worker_reviews_seconds_count", "");
            verdictsBefore = count(ledger, "SELECT count(*) FROM verdicts");
        }
        var request = ExecuteRequest.newBuilder().setTask("Triage this customer support ticket")
                .putInputs("document", Files.readString(Path.of("src", "test", "resources", "e2e",
                        "double-charge.txt"))).build();
        var ids = new ArrayList<String>();
        for (int i = 0; i < TASKS; i++) {
            ids.add(stub().submitTask(SubmitTaskRequest.newBuilder().setRequest(request)
                    .setIdempotencyKey("restart-" + i).build()).getTask().getTaskId());
        }

        var kills = new ArrayList<Instant>();
        var since = Instant.EPOCH;
        for (int round = 0; round < 2; round++) {
            awaitATaskHalfDone(since);
            oracle.kill();
            kills.add(Instant.now());
            oracle.start();
            oracle.awaitReady(Duration.ofSeconds(90));
            since = Instant.now();
        }
        // a client retrying its submission after the restarts: still the same task for the key
        assertThat(stub().submitTask(SubmitTaskRequest.newBuilder().setRequest(request)
                .setIdempotencyKey("restart-0").build()).getTask().getTaskId()).isEqualTo(ids.getFirst());

        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        for (var id : ids) {
            while (state(id) != TaskState.TASK_STATE_SUCCEEDED) {
                assertThat(System.nanoTime()).as("task " + id + " done in time (now " + state(id) + ")")
                        .isLessThan(until);
                Thread.sleep(200);
            }
        }

        int resumedWithSteps = 0;
        try (var c = DriverManager.getConnection(PG + DB, "postgres", "")) {
            assertThat(count(c, "SELECT count(*) FROM oracle.tasks")).as("one task per key").isEqualTo(TASKS);
            for (var id : ids) {
                var events = events(id);
                assertThat(events.stream().filter(TaskEvent::hasTaskDone)).as("task %s done once", id).hasSize(1);
                var completedAt = completedSteps(c, id);
                assertThat(completedAt).as("every step stored once").hasSize(STEPS);
                for (var e : events) {
                    if (e.hasStepStarted()) {
                        var started = Instant.ofEpochSecond(e.getTime().getSeconds(), e.getTime().getNanos());
                        assertThat(started).as("task %s: step %s not started again after it completed", id,
                                e.getStepStarted().getStepId())
                                .isBeforeOrEqualTo(completedAt.get(e.getStepStarted().getStepId()));
                    }
                }
                var finished = stub().getTask(GetTaskRequest.newBuilder().setTaskId(id).build()).getTask();
                assertThat(finished.getResponse().getStepsCount()).isEqualTo(STEPS);
                // a task that finished after a kill with steps completed before it resumed from them
                for (var kill : kills) {
                    var done = Instant.ofEpochSecond(finished.getFinishedAt().getSeconds());
                    if (done.isAfter(kill) && completedAt.values().stream().anyMatch(t -> t.isBefore(kill))) {
                        resumedWithSteps++;
                        assertThat(finished.getAttempts()).isGreaterThan(1);
                    }
                }
            }
        }
        assertThat(resumedWithSteps).as("tasks resumed from their completed steps").isPositive();

        // nothing paid twice: the steps in flight at a kill were collected from the router (keyed calls), so the
        // worker ran the models no more often than one run of the stored steps needs, and reviewed every reviewed
        // output once (one verdict each in the ledger)
        long stored = 0;
        long extra = 0;
        long escalated = 0;
        try (var c = DriverManager.getConnection(PG + DB, "postgres", "");
             var s = c.createStatement();
             var rs = s.executeQuery("SELECT result FROM oracle.task_steps")) {
            while (rs.next()) {
                var step = StepResult.parseFrom(rs.getBytes(1));
                stored++;
                escalated += step.getEscalated() ? 1 : 0;
                extra += step.getFailedAttemptsList().stream().filter(a -> a.contains(": low_confidence")
                        || a.contains(": validation_failed") || a.contains(": hedge_cancelled")
                        || a.contains(": DEADLINE_EXCEEDED")).count();
            }
        }
        // an escalation makes a model call only when it re-dispatches (a reviewer's own answer is none): a step paid
        // twice (a resumed run that ran its model again) would be one call over
        assertThat(stepCalls(worker) - stepCallsBefore).as("worker model calls for steps: one run of the stored "
                + "steps' (%d steps, %d cascade climbs and the like, %d escalations)", stored, extra, escalated)
                .isBetween(stored + extra, stored + extra + escalated);
        try (var ledger = DriverManager.getConnection(PG + E2eStack.DB, "postgres", "")) {
            awaitShadowQueueEmpty(ledger);
            assertThat(metric(worker, "tandem_worker_reviews_seconds_count", "") - reviewsBefore)
                    .as("worker reviews: one per verdict the ledger gained")
                    .isEqualTo(count(ledger, "SELECT count(*) FROM verdicts") - verdictsBefore);
        }
    }

    /** Waits (up to a minute) for the ledger's queued shadow reviews to be done. */
    private static void awaitShadowQueueEmpty(Connection ledger) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (count(ledger, "SELECT count(*) FROM review_tasks WHERE queue = 'MODEL'") > 0
                && System.nanoTime() < until) {
            Thread.sleep(200);
        }
    }

    /** The worker's model calls for steps, whatever their outcome. */
    private static long stepCalls(ServiceProcess worker) throws Exception {
        long calls = 0;
        for (var outcome : List.of("passed", "gate_failed", "timeout", "cancelled")) {
            calls += metric(worker, "tandem_worker_steps_seconds_count", "outcome=\"" + outcome + "\"");
        }
        return calls;
    }

    /**
     * Waits until a task is running with some but not all of its steps completed, one of them after
     * {@code since} (by the oracle started then, not one left over from the oracle killed before).
     */
    private static void awaitATaskHalfDone(Instant since) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (var c = DriverManager.getConnection(PG + DB, "postgres", "");
             var ps = c.prepareStatement("SELECT count(*) FROM oracle.tasks t WHERE t.state = 'RUNNING' "
                     + "AND (SELECT count(*) FROM oracle.task_steps s WHERE s.task_id = t.task_id) BETWEEN 1 AND "
                     + (STEPS - 1) + " AND EXISTS (SELECT 1 FROM oracle.task_steps s WHERE s.task_id = t.task_id "
                     + "AND s.completed_at > ?)")) {
            ps.setTimestamp(1, java.sql.Timestamp.from(since));
            while (true) {
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        return;
                    }
                }
                assertThat(System.nanoTime()).as("a task half done").isLessThan(until);
                Thread.sleep(10);
            }
        }
    }

    private static OracleServiceGrpc.OracleServiceBlockingStub stub() {
        return OracleServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static TaskState state(String id) {
        return stub().getTask(GetTaskRequest.newBuilder().setTaskId(id).build()).getTask().getState();
    }

    private static List<TaskEvent> events(String id) {
        var out = new ArrayList<TaskEvent>();
        stub().watchTask(WatchTaskRequest.newBuilder().setTaskId(id).build()).forEachRemaining(out::add);
        return out;
    }

    private static Map<String, Instant> completedSteps(Connection c, String id) throws SQLException {
        var out = new HashMap<String, Instant>();
        try (var ps = c.prepareStatement("SELECT step_id, completed_at FROM oracle.task_steps WHERE task_id = ?")) {
            ps.setString(1, id);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getTimestamp(2).toInstant());
                }
            }
        }
        return out;
    }

    /**
     * The sum of a metric's samples whose labels contain {@code labels}. Read with {@link MetricsText}: the shared
     * stack traces, so each of these lines ends with an exemplar whose timestamp is not the value.
     */
    private static long metric(ServiceProcess service, String name, String labels) throws Exception {
        return Math.round(MetricsText.sum(service.get("/q/metrics"), name, labels));
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (var s = c.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
