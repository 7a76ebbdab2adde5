package dev.tandem.system.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.PlanStep;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.SubmitTaskRequest;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.system.launch.MetricsText;
import dev.tandem.system.launch.ServiceProcess;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 21's restart benchmark: {@code TASKS} (1,000) tasks submitted with {@code SubmitTask}, four-step DAGs of
 * GSM8K questions on the instant replay backend (GPT-4's recorded answers as the worker, GPT-4's as the oracle), the
 * oracle SIGKILLed and started again on the same database {@code KILLS} (3) times, at a quarter, half and three
 * quarters of the tasks done. Two passes on fresh stacks in the same run: the baseline with the oracle sending no
 * idempotency keys ({@code tandem.oracle.tasks.submitted.keyed-calls=false}, as before keyed calls), then with them
 * ({@code -Dtandem.bench.baseline=false} runs only the second). Measures tasks/s over the whole run and, per restart,
 * how long until the new process was ready and stored its first step, and until every task the killed one held had
 * finished. Counts, from the oracle's store, the audit ledger and the services' own metrics: tasks done once (one
 * {@code task_done} event each), steps stored, completed steps started again (must be 0), steps started twice (in
 * flight at a kill), the router's dispatches beyond the stored steps (the count before keyed calls), and what is
 * really paid: the worker's model calls for steps against the calls one run of the stored steps makes, and its
 * reviews against the verdicts in the ledger; with keys both differences must be 0 (issue 21: no step billed
 * twice). Run by {@code bin/bench-submit} ({@code -Dtandem.bench.submit=true}); writes
 * {@code system-tests/target/bench/submit-restarts.md}; method and results in docs/benchmarks.md.
 */
@EnabledIfSystemProperty(named = "tandem.bench.submit", matches = "true")
class SubmitRestartBenchmarkIT {

    static final int TASKS = Integer.getInteger("tandem.bench.tasks", 1000);
    static final int KILLS = Integer.getInteger("tandem.bench.kills", 3);
    static final int STEPS = 4;
    static final String PG = "jdbc:postgresql://127.0.0.1:5432/";
    static final String HOST = "127.0.0.1";
    static final String WORKER_MODEL = "bench-worker";
    static final String ORACLE_MODEL = "replay-gpt-4-1106";

    final List<String> questions = new ArrayList<>();
    final StringBuilder report = new StringBuilder();
    String db;
    ServiceProcess audit;
    ServiceProcess worker;
    ServiceProcess router;
    ServiceProcess oracle;
    ManagedChannel channel;

    /** One SIGKILL of the oracle and what followed. */
    record Restart(int tasksDoneBefore, Instant killedAt, double readySeconds, double firstStepSeconds,
                   Set<String> held, double heldFinishedSeconds) {
    }

    /** What one pass counted (see {@link #check}). */
    record Counts(boolean keyed, long tasks, long succeeded, long doneTwice, long storedSteps,
                  long startedAfterCompletion, long resumed, long dispatchesPaidTwice, long stepCallsPaidTwice,
                  long reviewsPaidTwice) {
    }

    @Test
    void submittedTasksCompleteExactlyOnceAcrossOracleKills() throws Exception {
        var data = ReplayStackSettings.data();
        questions.addAll(ReplayStackSettings.questions(data));
        var portBase = Integer.getInteger("tandem.bench.port-base", 0);
        if (portBase > 0) {
            ServiceProcess.portBase(portBase); // a port range of one's own on a shared machine
        }
        // the baseline in the same run: the oracle sending no idempotency keys (every resumed step dispatched and
        // paid again, as before keyed calls), then with them; each pass on a fresh stack and database
        var passes = Boolean.parseBoolean(System.getProperty("tandem.bench.baseline", "true"))
                ? List.of(false, true) : List.of(true);
        var counts = new ArrayList<Counts>();
        line("# Submitted tasks across oracle restarts");
        line("");
        for (boolean keyed : passes) {
            try {
                start(data.toAbsolutePath().normalize(), keyed);
                counts.add(run(keyed));
            } finally {
                if (channel != null) {
                    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
                ServiceProcess.closeAll(oracle, router, worker, audit);
            }
        }
        var out = Path.of("target", "bench", "submit-restarts.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);

        for (var c : counts) {
            assertThat(c.tasks()).as("one task per idempotency key").isEqualTo(TASKS);
            assertThat(c.succeeded()).as("every task succeeded").isEqualTo(TASKS);
            assertThat(c.doneTwice()).as("no task completed twice").isZero();
            assertThat(c.storedSteps()).as("every step stored once").isEqualTo((long) TASKS * STEPS);
            assertThat(c.startedAfterCompletion()).as("no completed step started again").isZero();
            assertThat(c.resumed()).as("some tasks were caught by a kill and resumed").isPositive();
            if (c.keyed()) {
                // issue 21: no step billed twice, counted where the model calls are made (the worker)
                assertThat(c.stepCallsPaidTwice()).as("step model calls made twice").isZero();
                assertThat(c.reviewsPaidTwice()).as("reviews made twice").isZero();
            }
        }
        // reported, not asserted: a task_done event missing (a kill between the task's end and its event), and the
        // baseline's calls paid twice (in flight at a kill: oracle README, Restarts) are what the run measures
    }

    private Counts run(boolean keyed) throws Exception {
        // Submitted from a thread of its own while the kills go on, as clients keep submitting: a submission that
        // meets a killed oracle is retried with the same idempotency key, which must give the one task.
        var ids = new ConcurrentHashMap<Integer, String>();
        Instant begin = Instant.now();
        var submitter = Executors.newSingleThreadExecutor();
        Future<Double> submitted = submitter.submit(() -> {
            for (int i = 0; i < TASKS; i++) {
                ids.put(i, submitWithRetries(i));
            }
            return seconds(begin, Instant.now());
        });
        var restarts = new ArrayList<Restart>();
        try (var c = DriverManager.getConnection(PG + db, "postgres", "")) {
            for (int k = 1; k <= KILLS; k++) {
                int doneBefore = awaitDone(c, TASKS * k / (KILLS + 1), Duration.ofMinutes(10));
                Set<String> held = running(c);
                oracle.kill();
                Instant killed = Instant.now();
                oracle.start();
                oracle.awaitReady(Duration.ofSeconds(180));
                double ready = seconds(killed, Instant.now());
                double firstStep = awaitStepAfter(c, killed, Duration.ofMinutes(5));
                restarts.add(new Restart(doneBefore, killed, ready, firstStep, held, 0));
            }
            double submitSeconds = submitted.get(10, TimeUnit.MINUTES);
            submitter.shutdown();
            awaitDone(c, TASKS, Duration.ofMinutes(15));
            Instant end = Instant.now();
            var first = ids.get(0);
            // the idempotency key still names the first task after the restarts
            assertThat(submitWithRetries(0)).isEqualTo(first);

            var finished = new ArrayList<Restart>();
            for (var r : restarts) {
                finished.add(new Restart(r.tasksDoneBefore(), r.killedAt(), r.readySeconds(), r.firstStepSeconds(),
                        r.held(), heldFinished(c, r)));
            }
            return check(c, keyed, new ArrayList<>(ids.values()), begin, end, submitSeconds, finished);
        }
    }

    private String submitWithRetries(int i) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                return stub().submitTask(SubmitTaskRequest.newBuilder().setRequest(task(i))
                        .setIdempotencyKey("submit-bench-" + i).build()).getTask().getTaskId();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || attempt > 600) {
                    throw e;
                }
                Thread.sleep(100); // the oracle is restarting
            }
        }
    }

    private Counts check(Connection c, boolean keyed, List<String> ids, Instant begin, Instant end,
                         double submitSeconds, List<Restart> restarts) throws Exception {
        long tasks = count(c, "SELECT count(*) FROM oracle.tasks");
        long succeeded = count(c, "SELECT count(*) FROM oracle.tasks WHERE state = 'SUCCEEDED'");
        long resumed = count(c, "SELECT count(*) FROM oracle.tasks WHERE attempts > 1");
        long storedSteps = count(c, "SELECT count(*) FROM oracle.task_steps");

        Map<String, Instant> completedAt = new HashMap<>();
        long escalated = 0;
        long extraCalls = 0;
        try (var s = c.createStatement();
             var rs = s.executeQuery("SELECT task_id, step_id, completed_at, result FROM oracle.task_steps")) {
            while (rs.next()) {
                completedAt.put(rs.getString(1) + "/" + rs.getString(2), rs.getTimestamp(3).toInstant());
                var step = StepResult.parseFrom(rs.getBytes(4));
                if (step.getEscalated()) {
                    escalated++;
                }
                // more model calls of the one dispatch: a cascade climb's first output (answered, not good enough),
                // a hedge that lost the race, a call the worker timed out (the model ran until then)
                extraCalls += step.getFailedAttemptsList().stream()
                        .filter(a -> a.contains(": low_confidence") || a.contains(": validation_failed")
                                || a.contains(": hedge_cancelled") || a.contains(": DEADLINE_EXCEEDED")).count();
            }
        }
        Map<String, Integer> done = new HashMap<>();
        Map<String, Integer> starts = new HashMap<>();
        long startedAfterCompletion = 0;
        try (var s = c.createStatement();
             var rs = s.executeQuery("SELECT task_id, event FROM oracle.task_events")) {
            while (rs.next()) {
                var e = TaskEvent.parseFrom(rs.getBytes(2));
                var task = rs.getString(1);
                if (e.hasTaskDone()) {
                    done.merge(task, 1, Integer::sum);
                } else if (e.hasStepStarted()) {
                    var key = task + "/" + e.getStepStarted().getStepId();
                    starts.merge(key, 1, Integer::sum);
                    var at = Instant.ofEpochSecond(e.getTime().getSeconds(), e.getTime().getNanos());
                    var completed = completedAt.get(key);
                    if (completed != null && at.isAfter(completed)) {
                        startedAfterCompletion++;
                    }
                }
            }
        }
        long doneOnce = ids.stream().filter(id -> done.getOrDefault(id, 0) == 1).count();
        long doneNever = ids.stream().filter(id -> done.getOrDefault(id, 0) == 0).count();
        long doneTwice = ids.stream().filter(id -> done.getOrDefault(id, 0) > 1).count();
        long startedTwice = starts.values().stream().filter(n -> n > 1).count();

        long executed = requests(worker, "ExecuteStep", true);
        long executedAll = requests(worker, "ExecuteStep", false);
        long dispatched = requests(router, "Dispatch", true);
        // the oracle's dispatches beyond one per stored step (and escalation): steps it dispatched again after a
        // restart (before keyed calls, each one paid again; keyed, the router answers them without a model call)
        long paidTwice = dispatched - storedSteps - escalated;
        long joined = metric(router, "tandem_router_deduplicated_calls_total", "how=\"joined\"");
        long recorded = metric(router, "tandem_router_deduplicated_calls_total", "how=\"recorded\"");

        // What is really paid: the model calls the worker made. A step's calls are its dispatch's (one, plus one
        // per cascade climb) and an escalation's re-dispatch; the worker's checkpoint replays (the same task, step,
        // attempt and model again within its TTL) run no model and are left out.
        long stepModelCalls = metric(worker, "tandem_worker_steps_seconds_count", "outcome=\"passed\"")
                + metric(worker, "tandem_worker_steps_seconds_count", "outcome=\"gate_failed\"")
                + metric(worker, "tandem_worker_steps_seconds_count", "outcome=\"timeout\"")
                + metric(worker, "tandem_worker_steps_seconds_count", "outcome=\"cancelled\"");
        long checkpointReplays = metric(worker, "tandem_worker_steps_seconds_count", "outcome=\"checkpoint\"");
        long stepCallsOnce = storedSteps + extraCalls + escalated;
        long stepCallsPaidTwice = stepModelCalls - stepCallsOnce;
        // reviews: one verdict per reviewed output in the ledger (blocking, and shadow ones once the audit's queue
        // is worked off), one model call each at the worker
        awaitShadowQueue(c, Duration.ofMinutes(2));
        long verdicts = count(c, "SELECT count(*) FROM verdicts");
        long workerReviews = metric(worker, "tandem_worker_reviews_seconds_count", "");
        long reviewsPaidTwice = workerReviews - verdicts;

        double runSeconds = seconds(begin, end);
        line("## " + (keyed ? "Keyed router calls (idempotency keys)" : "Baseline: no idempotency keys "
                + "(tandem.oracle.tasks.submitted.keyed-calls=false)"));
        line("");
        line(String.format(Locale.ROOT, "%d tasks of %d steps (SubmitTask), oracle SIGKILLed and restarted %d times; "
                + "%s, %d cores, JDK %s", TASKS, STEPS, restarts.size(), System.getProperty("os.name"),
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version")));
        line("");
        line(String.format(Locale.ROOT, "- submitted in %.1f s; all done %.1f s after the first submission: %.1f tasks/s, "
                + "%.1f steps/s", submitSeconds, runSeconds, TASKS / runSeconds, storedSteps / runSeconds));
        line("");
        line("| restart | tasks done before | held by the killed oracle | new oracle ready s | first step stored s "
                + "| every held task done s |");
        line("|---|---|---|---|---|---|");
        for (int i = 0; i < restarts.size(); i++) {
            var r = restarts.get(i);
            line(String.format(Locale.ROOT, "| %d | %d | %d | %.1f | %.1f | %.1f |", i + 1, r.tasksDoneBefore(),
                    r.held().size(), r.readySeconds(), r.firstStepSeconds(), r.heldFinishedSeconds()));
        }
        line("");
        line("| check | count |");
        line("|---|---|");
        line("| tasks stored (one per idempotency key) | " + tasks + " |");
        line("| tasks SUCCEEDED | " + succeeded + " |");
        line("| tasks with exactly one task_done event (none / more than one) | " + doneOnce + " (" + doneNever
                + " / " + doneTwice + ") |");
        line("| tasks resumed by another process (attempts > 1) | " + resumed + " |");
        line("| steps stored | " + storedSteps + " |");
        line("| steps escalated | " + escalated + " |");
        line("| completed steps started again | " + startedAfterCompletion + " |");
        line("| steps started twice (in flight at a kill) | " + startedTwice + " |");
        line("| worker ExecuteStep calls answered OK / all | " + executed + " / " + executedAll + " |");
        line("| router Dispatch calls answered OK | " + dispatched + " |");
        line("| steps dispatched twice (router dispatches - stored steps - escalations; the count before keyed "
                + "calls) | " + paidTwice + " |");
        line("| repeated keyed calls (dispatches and reviews) the router answered without a model call: joined in "
                + "flight / recorded | "
                + joined + " / " + recorded + " |");
        line("| worker model calls for steps (checkpoint replays, not calls, besides) | " + stepModelCalls + " ("
                + checkpointReplays + ") |");
        line("| model calls one run of the stored steps makes (steps + cascade climbs, lost hedges and timeouts + "
                + "escalations) | " + stepCallsOnce + " (" + storedSteps + " + " + extraCalls + " + " + escalated
                + ") |");
        line("| **step model calls paid twice** (worker calls - the above) | **" + stepCallsPaidTwice + "** |");
        line("| worker reviews / verdicts in the ledger | " + workerReviews + " / " + verdicts + " |");
        line("| **reviews paid twice** | **" + reviewsPaidTwice + "** |");
        line("");
        return new Counts(keyed, tasks, succeeded, doneTwice, storedSteps, startedAfterCompletion, resumed,
                paidTwice, stepCallsPaidTwice, reviewsPaidTwice);
    }

    /** Waits until the audit's model review queue (shadow reviews) is empty, or the time passes. */
    private static void awaitShadowQueue(Connection c, Duration within) throws Exception {
        long until = System.nanoTime() + within.toNanos();
        while (count(c, "SELECT count(*) FROM review_tasks WHERE queue = 'MODEL'") > 0
                && System.nanoTime() < until) {
            Thread.sleep(200);
        }
    }

    // ---- the run ----------------------------------------------------------------------------------------------

    /** a → (b, c) → d, four GSM8K questions. */
    private ExecuteRequest task(int i) {
        var plan = Plan.newBuilder()
                .addSteps(solve("a", "{{inputs.q1}}"))
                .addSteps(solve("b", "{{inputs.q2}}", "a"))
                .addSteps(solve("c", "{{inputs.q3}}", "a"))
                .addSteps(solve("d", "{{inputs.q4}}", "b", "c"));
        var request = ExecuteRequest.newBuilder().setTask("Solve four math word problems").setPlan(plan);
        for (int q = 1; q <= STEPS; q++) {
            request.putInputs("q" + q, questions.get((STEPS * i + q) % questions.size()));
        }
        return request.build();
    }

    private static PlanStep solve(String id, String question, String... dependsOn) {
        return PlanStep.newBuilder().setId(id).setWorkerType("solve").putInputs("question", question)
                .addAllDependsOn(List.of(dependsOn)).build();
    }

    private static int awaitDone(Connection c, int tasks, Duration within) throws Exception {
        long until = System.nanoTime() + within.toNanos();
        while (true) {
            long done = count(c, "SELECT count(*) FROM oracle.tasks WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELLED')");
            if (done >= tasks) {
                return (int) done;
            }
            assertThat(System.nanoTime()).as("%d tasks done (now %d)", tasks, done).isLessThan(until);
            Thread.sleep(20);
        }
    }

    private static Set<String> running(Connection c) throws SQLException {
        var out = new HashSet<String>();
        try (var s = c.createStatement();
             var rs = s.executeQuery("SELECT task_id FROM oracle.tasks WHERE state = 'RUNNING'")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** Seconds from the kill until the first step stored after it (by the new process). */
    private static double awaitStepAfter(Connection c, Instant since, Duration within) throws Exception {
        long until = System.nanoTime() + within.toNanos();
        try (var ps = c.prepareStatement("SELECT min(completed_at) FROM oracle.task_steps WHERE completed_at > ?")) {
            ps.setTimestamp(1, Timestamp.from(since));
            while (true) {
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    var first = rs.getTimestamp(1);
                    if (first != null) {
                        return seconds(since, first.toInstant());
                    }
                }
                assertThat(System.nanoTime()).as("a step stored after the restart").isLessThan(until);
                Thread.sleep(20);
            }
        }
    }

    /** Seconds from the kill until the last task the killed process held had finished. */
    private static double heldFinished(Connection c, Restart r) throws SQLException {
        if (r.held().isEmpty()) {
            return 0;
        }
        try (var ps = c.prepareStatement("SELECT max(finished_at) FROM oracle.tasks WHERE task_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", r.held().toArray()));
            try (var rs = ps.executeQuery()) {
                rs.next();
                return seconds(r.killedAt(), rs.getTimestamp(1).toInstant());
            }
        }
    }

    /** Calls of a gRPC method the service answered (with OK only, or with any status), from its Prometheus metrics. */
    private static long requests(ServiceProcess service, String method, boolean okOnly) throws Exception {
        long sum = 0;
        boolean seen = false;
        for (var sample : MetricsText.samples(service.get("/q/metrics"))) {
            if (sample.name().equals("grpc_server_processing_duration_seconds_count")
                    && sample.labels().contains("method=\"" + method + "\"")
                    && (!okOnly || sample.labels().contains("statusCode=\"OK\""))) {
                sum += (long) sample.value();
                seen = true;
            }
        }
        assertThat(seen).as("%s's metrics count %s calls", service.name, method).isTrue();
        return sum;
    }

    /** The sum of a Prometheus series' samples whose labels contain {@code labels} (all of them when empty). */
    private static long metric(ServiceProcess service, String name, String labels) throws Exception {
        return Math.round(metricUsd(service, name, labels));
    }

    private static double metricUsd(ServiceProcess service, String name, String labels) throws Exception {
        return MetricsText.sum(service.get("/q/metrics"), name, labels);
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (var s = c.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static double seconds(Instant from, Instant to) {
        return Duration.between(from, to).toMillis() / 1000.0;
    }

    private OracleServiceGrpc.OracleServiceBlockingStub stub() {
        return OracleServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private void line(String s) {
        System.out.println(s);
        report.append(s).append('\n');
    }

    // ---- the stack --------------------------------------------------------------------------------------------

    private void start(Path data, boolean keyed) throws Exception {
        db = System.getProperty("tandem.bench.db", System.getenv().getOrDefault("TANDEM_BENCH_DB", "tandem_bench"));
        ServiceProcess.freshDatabase(PG, db);
        int auditPort = ServiceProcess.freePort();
        int workerPort = ServiceProcess.freePort();
        int routerPort = ServiceProcess.freePort();
        int oraclePort = ServiceProcess.freePort();
        var quiet = Map.of("quarkus.log.console.level", "WARN", "quarkus.http.host", HOST);

        // the audit service at its defaults: every stream starts in probation, its steps reviewed blocking
        var a = new LinkedHashMap<String, String>(quiet);
        a.put("quarkus.datasource.jdbc.url", PG + db);
        a.put("quarkus.datasource.username", "postgres");
        a.put("quarkus.grpc.clients.router.host", HOST);
        a.put("quarkus.grpc.clients.router.port", String.valueOf(routerPort));

        // GPT-4's recorded answers as the worker too, so that reviews accept and no step is escalated: every model
        // call for a step beyond the stored steps is then a step paid twice
        var w = ReplayStackSettings.worker(quiet, data, WORKER_MODEL, "gpt-4-1106-preview_response");

        var r = ReplayStackSettings.router(quiet, HOST + ":" + workerPort, WORKER_MODEL, ORACLE_MODEL);
        r.put("tandem.router.quality-target.\"solve\"", "0");
        r.put("quarkus.grpc.clients.audit.host", HOST);
        r.put("quarkus.grpc.clients.audit.port", String.valueOf(auditPort));

        var o = new LinkedHashMap<String, String>(quiet);
        o.put("quarkus.grpc.clients.router.host", HOST);
        o.put("quarkus.grpc.clients.router.port", String.valueOf(routerPort));
        o.put("quarkus.grpc.clients.audit.host", HOST);
        o.put("quarkus.grpc.clients.audit.port", String.valueOf(auditPort));
        o.put("quarkus.datasource.jdbc.url", PG + db);
        o.put("quarkus.datasource.username", "postgres");
        o.put("tandem.oracle.oracle-model", ORACLE_MODEL);
        o.put("tandem.oracle.limits.tasks-per-window", "0");
        // a killed replica's tasks are claimed again when their lease expires: 5 s instead of the default 30 s, so
        // that the run measures resuming rather than waiting (the lease is what a restart costs in time)
        o.put("tandem.oracle.tasks.submitted.lease", System.getProperty("tandem.bench.lease", "5s"));
        o.put("tandem.oracle.tasks.submitted.poll-interval", "200ms");
        o.put("tandem.oracle.tasks.submitted.keyed-calls", String.valueOf(keyed));

        audit = new ServiceProcess("audit-service", auditPort, a);
        worker = new ServiceProcess("worker-service", workerPort, w);
        router = new ServiceProcess("router-service", routerPort, r);
        oracle = new ServiceProcess("oracle-service", oraclePort, o, "oracle-service-submit");
        ServiceProcess.startAll(Duration.ofSeconds(180), audit, worker, router, oracle);
        channel = ManagedChannelBuilder.forAddress(HOST, oraclePort).usePlaintext().build();
    }
}
