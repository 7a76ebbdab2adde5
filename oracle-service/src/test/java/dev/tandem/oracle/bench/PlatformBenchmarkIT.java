package dev.tandem.oracle.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import dev.tandem.oracle.e2e.ServiceProcess;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.PlanStep;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * The platform benchmark of issue 7 ({@code bin/bench-platform}; not part of the test suite): the four services as
 * processes on this machine with the load generator beside them, steps answered by an instant backend (replayed
 * answers: a lookup, then the worker's gates), audited as in production. It measures Tandem's own per-step overhead
 * (the oracle's step time minus the time the workers report), client latency, throughput at saturation, RSS per
 * service, and a direct client-to-worker call under the same load for comparison. Results: stdout and
 * {@code oracle-service/target/bench/platform.md}; method and numbers in docs/benchmarks.md.
 */
@EnabledIfSystemProperty(named = "tandem.bench.platform", matches = "true")
class PlatformBenchmarkIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String WORKER_MODEL = "bench-worker";
    static final String ORACLE_MODEL = "replay-gpt-4-1106";
    static final int CHANNELS = 8;
    static final double SECONDS = Double.parseDouble(System.getProperty("tandem.bench.seconds", "20"));

    final List<String> questions = new ArrayList<>();
    final StringBuilder report = new StringBuilder();
    final Map<String, AtomicLong> maxRss = new LinkedHashMap<>();
    List<ServiceProcess> services;
    List<ManagedChannel> oracleChannels = new ArrayList<>();
    ManagedChannel workerChannel;

    @Test
    void platformOverheadThroughputAndFootprint() throws Exception {
        var data = Path.of(System.getenv().getOrDefault("TANDEM_WORKER_REPLAY_DIR", "../../shared/data/routellm-gsm8k"));
        Assumptions.assumeTrue(Files.isRegularFile(data.resolve("gsm8k_responses.csv")),
                "the replay data is not at " + data.toAbsolutePath() + " (../shared beside the repository)");
        // the questions only: the benchmark never needs to know which answers are right
        for (var line : Files.readAllLines(data.resolve("test.jsonl"))) {
            if (!line.isBlank()) {
                questions.add(JSON.readTree(line).get("question").asText());
            }
        }
        start(data.toAbsolutePath().normalize());
        var sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(this::sampleRss, 0, 500, TimeUnit.MILLISECONDS);
        try {
            line("# Tandem platform benchmark");
            line("");
            line(String.format(Locale.ROOT, "%s, %d cores, JDK %s; %.0f s per phase; services and load generator on "
                    + "this machine", System.getProperty("os.name") + " " + System.getProperty("os.arch"),
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), SECONDS));
            line("");
            warmUp();
            line("| scenario | offered steps/s | achieved steps/s | errors | step overhead p50 / p99 ms | "
                    + "client latency p50 / p99 ms | worker time p50 ms |");
            line("|---|---|---|---|---|---|---|");
            // below saturation (the overhead itself) and at the goal's rate
            openLoop("single-step tasks", 200, this::singleStep, 1);
            openLoop("4-step DAG tasks", 200, this::fourSteps, 4);
            openLoop("single-step tasks", 1000, this::singleStep, 1);
            openLoop("4-step DAG tasks", 1000, this::fourSteps, 4);
            direct(1000);
            line("");
            line("| saturation (closed loop) | concurrent tasks | steps/s | tasks/s | errors | client p50 / p99 ms |");
            line("|---|---|---|---|---|---|");
            for (int concurrency : new int[] {16, 64, 128}) {
                closedLoop("single-step", concurrency, this::singleStep, 1);
            }
            for (int concurrency : new int[] {16, 64}) {
                closedLoop("4-step DAG", concurrency, this::fourSteps, 4);
            }
            line("");
            line("| service | max RSS MB |");
            line("|---|---|");
            maxRss.forEach((name, bytes) -> line(String.format(Locale.ROOT, "| %s | %.0f |", name,
                    bytes.get() / 1048576.0)));
        } finally {
            sampler.shutdownNow();
            stop();
            var out = Path.of("target", "bench", "platform.md");
            Files.createDirectories(out.getParent());
            Files.writeString(out, report);
            System.out.println(report);
        }
    }

    // ---- requests ---------------------------------------------------------------------------------------------

    private ExecuteRequest singleStep(int i) {
        return ExecuteRequest.newBuilder().setTask("Solve this math word problem").setPipeline("math-word-problem")
                .putInputs("question", questions.get(i % questions.size())).build();
    }

    /** a → (b, c) → d: two levels of parallelism, four steps. */
    private ExecuteRequest fourSteps(int i) {
        var plan = Plan.newBuilder()
                .addSteps(solve("a", "{{inputs.q1}}"))
                .addSteps(solve("b", "{{inputs.q2}}", "a"))
                .addSteps(solve("c", "{{inputs.q3}}", "a"))
                .addSteps(solve("d", "{{inputs.q4}}", "b", "c"));
        var request = ExecuteRequest.newBuilder().setTask("Solve four math word problems").setPlan(plan);
        for (int q = 1; q <= 4; q++) {
            request.putInputs("q" + q, questions.get((4 * i + q) % questions.size()));
        }
        return request.build();
    }

    private static PlanStep solve(String id, String question, String... dependsOn) {
        return PlanStep.newBuilder().setId(id).setWorkerType("solve").putInputs("question", question)
                .addAllDependsOn(List.of(dependsOn)).build();
    }

    // ---- phases -----------------------------------------------------------------------------------------------

    /** Earns the streams' trust (a new stream is reviewed in full until the evidence is in), as in production. */
    private void warmUp() throws Exception {
        var stub = OracleServiceGrpc.newBlockingStub(oracleChannels.getFirst());
        int tasks = Integer.getInteger("tandem.bench.warmup", 600);
        var pool = Executors.newFixedThreadPool(8);
        var failed = new AtomicInteger();
        for (int i = 0; i < tasks; i++) {
            int n = i;
            pool.execute(() -> {
                try {
                    stub.withDeadlineAfter(60, TimeUnit.SECONDS).execute(singleStep(n));
                } catch (RuntimeException e) {
                    failed.incrementAndGet();
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(10, TimeUnit.MINUTES);
        var last = stub.withDeadlineAfter(60, TimeUnit.SECONDS).execute(singleStep(tasks));
        line(String.format(Locale.ROOT, "Warm-up: %d single-step tasks (%d failed); the stream is then %s "
                + "(its next step: %s, %s).", tasks, failed.get(), last.getSteps(0).getAudit().getTrustState(),
                last.getSteps(0).getAudit().getDecision(), last.getSteps(0).getAudit().getReason()));
        line("");
    }

    private record Result(Recorder client, Recorder overhead, Recorder worker, AtomicInteger errors,
                          Map<Status.Code, AtomicInteger> byCode, AtomicLong steps) {
        static Result create() {
            return new Result(new Recorder(3), new Recorder(3), new Recorder(3), new AtomicInteger(),
                    new ConcurrentHashMap<>(), new AtomicLong());
        }

        void record(ExecuteResponse r, long clientNanos) {
            client.recordValue(Math.max(1, clientNanos / 1000));
            for (var s : r.getStepsList()) {
                overhead.recordValue(Math.max(1, Math.round((s.getDurationMs() - s.getWorkerMs()) * 1000)));
                worker.recordValue(Math.max(1, Math.round(s.getWorkerMs() * 1000)));
                steps.incrementAndGet();
            }
        }

        void failed(Throwable t) {
            errors.incrementAndGet();
            byCode.computeIfAbsent(Status.fromThrowable(t).getCode(), c -> new AtomicInteger()).incrementAndGet();
        }
    }

    /** Tasks at a fixed rate, latency counted from when each was due (no coordinated omission). */
    private void openLoop(String name, int stepsPerSecond, Function<Integer, ExecuteRequest> task, int stepsPerTask)
            throws Exception {
        var result = Result.create();
        double tasksPerSecond = (double) stepsPerSecond / stepsPerTask;
        long interval = (long) (1e9 / tasksPerSecond);
        int total = (int) (tasksPerSecond * SECONDS);
        var done = new CountDownLatch(total);
        var stubs = oracleChannels.stream().map(OracleServiceGrpc::newFutureStub).toList();
        long start = System.nanoTime() + 50_000_000;
        for (int i = 0; i < total; i++) {
            long due = start + i * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            var call = stubs.get(i % CHANNELS).withDeadlineAfter(30, TimeUnit.SECONDS).execute(task.apply(i));
            Futures.addCallback(call, new FutureCallback<>() {
                @Override
                public void onSuccess(ExecuteResponse r) {
                    result.record(r, System.nanoTime() - due);
                    done.countDown();
                }

                @Override
                public void onFailure(Throwable t) {
                    result.failed(t);
                    done.countDown();
                }
            }, MoreExecutors.directExecutor());
        }
        long offeredEnd = System.nanoTime();
        done.await(2, TimeUnit.MINUTES);
        double elapsed = (System.nanoTime() - start) / 1e9;
        var client = result.client().getIntervalHistogram();
        var overhead = result.overhead().getIntervalHistogram();
        var worker = result.worker().getIntervalHistogram();
        line(String.format(Locale.ROOT, "| %s | %d | %.0f | %d%s | %.2f / %.2f | %.1f / %.1f | %.2f |", name,
                stepsPerSecond, result.steps().get() / elapsed, result.errors().get(), codes(result),
                ms(overhead, 50), ms(overhead, 99), ms(client, 50), ms(client, 99), ms(worker, 50)));
        if ((offeredEnd - start) / 1e9 > SECONDS * 1.1) {
            line("| (the generator fell behind its schedule: the offered rate was not reached) | | | | | | |");
        }
    }

    /** A direct call to the worker at the same rate: what the same step costs without the platform. */
    private void direct(int stepsPerSecond) throws Exception {
        var latency = new Recorder(3);
        var errors = new AtomicInteger();
        long interval = (long) (1e9 / stepsPerSecond);
        int total = (int) (stepsPerSecond * SECONDS);
        var done = new CountDownLatch(total);
        var stub = WorkerServiceGrpc.newFutureStub(workerChannel);
        long start = System.nanoTime() + 50_000_000;
        for (int i = 0; i < total; i++) {
            long due = start + i * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            var call = stub.withDeadlineAfter(30, TimeUnit.SECONDS).executeStep(ExecuteStepRequest.newBuilder()
                    .setTaskId("bench-direct").setStepId("s" + i).setAttempt(1).setWorkerType("solve")
                    .setModelId(WORKER_MODEL).putInputs("question", questions.get(i % questions.size())).build());
            Futures.addCallback(call, new FutureCallback<ExecuteStepResponse>() {
                @Override
                public void onSuccess(ExecuteStepResponse r) {
                    latency.recordValue(Math.max(1, (System.nanoTime() - due) / 1000));
                    done.countDown();
                }

                @Override
                public void onFailure(Throwable t) {
                    errors.incrementAndGet();
                    done.countDown();
                }
            }, MoreExecutors.directExecutor());
        }
        done.await(2, TimeUnit.MINUTES);
        var h = latency.getIntervalHistogram();
        line(String.format(Locale.ROOT, "| direct client → worker call (no platform) | %d | %.0f | %d | – | %.1f / %.1f | – |",
                stepsPerSecond, h.getTotalCount() / ((System.nanoTime() - start) / 1e9), errors.get(), ms(h, 50),
                ms(h, 99)));
    }

    private void closedLoop(String name, int concurrency, Function<Integer, ExecuteRequest> task, int stepsPerTask)
            throws Exception {
        var result = Result.create();
        var stubs = oracleChannels.stream().map(OracleServiceGrpc::newBlockingStub).toList();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        long end = System.nanoTime() + (long) (SECONDS * 1e9);
        var counter = new AtomicInteger();
        long start = System.nanoTime();
        for (int c = 0; c < concurrency; c++) {
            int channel = c % CHANNELS;
            pool.execute(() -> {
                while (System.nanoTime() < end) {
                    int i = counter.getAndIncrement();
                    long t0 = System.nanoTime();
                    try {
                        result.record(stubs.get(channel).withDeadlineAfter(30, TimeUnit.SECONDS).execute(task.apply(i)),
                                System.nanoTime() - t0);
                    } catch (RuntimeException e) {
                        result.failed(e);
                    }
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(2, TimeUnit.MINUTES);
        double elapsed = (System.nanoTime() - start) / 1e9;
        var client = result.client().getIntervalHistogram();
        line(String.format(Locale.ROOT, "| %s | %d | %.0f | %.0f | %d%s | %.1f / %.1f |", name, concurrency,
                result.steps().get() / elapsed, result.steps().get() / elapsed / stepsPerTask, result.errors().get(),
                codes(result), ms(client, 50), ms(client, 99)));
    }

    // ---- the stack --------------------------------------------------------------------------------------------

    private void start(Path data) throws Exception {
        var db = "tandem_bench";
        try (var c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
             var s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + db);
        }
        int auditPort = ServiceProcess.freePort();
        int workerPort = ServiceProcess.freePort();
        int routerPort = ServiceProcess.freePort();
        int oraclePort = ServiceProcess.freePort();
        var quiet = Map.of("quarkus.log.console.level", "WARN");

        var audit = new LinkedHashMap<String, String>(quiet);
        audit.put("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/" + db);
        audit.put("quarkus.datasource.username", "postgres");

        var worker = new LinkedHashMap<String, String>(quiet);
        worker.put("tandem.worker.replay-dir", data.toString());
        var m = "tandem.models.\"" + WORKER_MODEL + "\".";
        worker.put(m + "provider", "replay");
        worker.put(m + "replay.dataset", data.resolve("gsm8k_responses.csv").toString());
        worker.put(m + "replay.response-column", "gpt-4-1106-preview_response");
        worker.put(m + "capabilities", "generation");

        var router = new LinkedHashMap<String, String>(quiet);
        router.put("tandem.router.pools.local.endpoint", "localhost:" + workerPort);
        router.put("tandem.router.pools.local.models", "embedded-minilm,embedded-bge-oracle," + WORKER_MODEL + ","
                + ORACLE_MODEL);
        router.put("tandem.router.pools.local.capacity", "512");
        var w = "tandem.router.models.\"" + WORKER_MODEL + "\".";
        router.put(w + "tier", "SMALL");
        router.put(w + "input-usd-per-mtok", "0.60");
        router.put(w + "output-usd-per-mtok", "0.60");
        router.put(w + "capabilities", "generation");
        var o = "tandem.router.models.\"" + ORACLE_MODEL + "\".";
        router.put(o + "tier", "ORACLE");
        router.put(o + "input-usd-per-mtok", "10.00");
        router.put(o + "output-usd-per-mtok", "30.00");
        router.put(o + "capabilities", "generation");
        router.put("tandem.router.oracle-model", ORACLE_MODEL);
        router.put("quarkus.grpc.clients.audit.host", "localhost");
        router.put("quarkus.grpc.clients.audit.port", String.valueOf(auditPort));

        var oracle = new LinkedHashMap<String, String>(quiet);
        oracle.put("quarkus.grpc.clients.router.host", "localhost");
        oracle.put("quarkus.grpc.clients.router.port", String.valueOf(routerPort));
        oracle.put("quarkus.grpc.clients.audit.host", "localhost");
        oracle.put("quarkus.grpc.clients.audit.port", String.valueOf(auditPort));
        oracle.put("tandem.oracle.oracle-model", ORACLE_MODEL);
        oracle.put("tandem.oracle.limits.tasks-per-window", "0");
        oracle.put("tandem.oracle.tasks.retained", "100");

        services = List.of(new ServiceProcess("audit-service", auditPort, audit),
                new ServiceProcess("worker-service", workerPort, worker),
                new ServiceProcess("router-service", routerPort, router),
                new ServiceProcess("oracle-service", oraclePort, oracle));
        for (var s : services) {
            s.start();
            maxRss.put(s.name, new AtomicLong());
        }
        for (var s : services) {
            s.awaitReady(Duration.ofSeconds(180));
        }
        for (int i = 0; i < CHANNELS; i++) {
            oracleChannels.add(ManagedChannelBuilder.forAddress("127.0.0.1", oraclePort).usePlaintext().build());
        }
        workerChannel = ManagedChannelBuilder.forAddress("127.0.0.1", workerPort).usePlaintext().build();
    }

    private void stop() throws Exception {
        oracleChannels.forEach(ManagedChannel::shutdownNow);
        if (workerChannel != null) {
            workerChannel.shutdownNow();
        }
        if (services != null) {
            for (var s : services.reversed()) {
                s.close();
            }
        }
    }

    private void sampleRss() {
        for (var s : services) {
            long rss = s.rssBytes();
            maxRss.get(s.name).accumulateAndGet(rss, Math::max);
        }
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
    }

    private static String codes(Result r) {
        return r.byCode().isEmpty() ? "" : " " + r.byCode();
    }

    private void line(String text) {
        report.append(text).append('\n');
        System.out.println(text);
    }
}
