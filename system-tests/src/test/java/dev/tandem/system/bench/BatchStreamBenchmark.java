package dev.tandem.system.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.GetTaskRequest;
import dev.tandem.proto.oracle.v1.SubmitTaskRequest;
import dev.tandem.proto.oracle.v1.Task;
import dev.tandem.proto.oracle.v1.TaskState;
import dev.tandem.proto.worker.v1.LatencyClass;
import dev.tandem.system.launch.ServiceProcess;

/**
 * Issue 21's number ({@code bin/bench-routing batch}): the bundled sample tasks (bin/demo's stream) submitted one
 * after the other through {@code OracleService.SubmitTask} on the offline default (embedded worker and oracle), the
 * catalog giving both models batch prices at half their prices; once with every task STANDARD (interactive prices)
 * and once with a seeded share of them BATCH-class, each on a fresh stack (fresh audit ledger), in the same run. Cost
 * is the router's own meter ({@code tandem_router_cost_usd_total}, shadow reviews included, read once the spend has
 * settled) and, for reference, the sum of the tasks' {@code Cost.actual_usd} and {@code Cost.batch_discount_usd}.
 * Options: {@code --limit N} (100), {@code --batch-share X} (0.3), {@code --seed N} (21), {@code --db NAME}
 * ($TANDEM_BENCH_DB or tandem_bench), {@code --port-base N} (ports from N up; any free port when unset).
 */
public final class BatchStreamBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String WORKER = "embedded-minilm";
    private static final String ORACLE = "embedded-bge-oracle";

    /** What one stream cost; {@code taskUsd} is each task's own {@code Cost.actual_usd} (NaN where it failed). */
    record Result(String name, int tasks, int batchTasks, int failed, double meterUsd, double reportedUsd,
                  double allOracleUsd, double batchDiscountUsd, double seconds, List<Double> taskUsd) {
    }

    /**
     * The share of the all-interactive stream's cost carried by the tasks the mixed stream sends BATCH-class. At a
     * discount d on everything those tasks spend, the mixed stream costs 1 - d x this share of the interactive one,
     * so the seed's choice of tasks, not only the discount, sets the ratio: reported beside it.
     */
    static double batchShareOfCost(List<Double> interactiveTaskUsd, Set<Integer> batch) {
        double all = 0;
        double batched = 0;
        for (int i = 0; i < interactiveTaskUsd.size(); i++) {
            double usd = interactiveTaskUsd.get(i);
            if (Double.isNaN(usd)) {
                continue;
            }
            all += usd;
            if (batch.contains(i)) {
                batched += usd;
            }
        }
        return all == 0 ? 0 : batched / all;
    }

    public static void main(String[] args) throws Exception {
        Path root = ServiceProcess.root();
        int limit = 100;
        double share = 0.3;
        long seed = 21;
        String db = System.getenv().getOrDefault("TANDEM_BENCH_DB", "tandem_bench");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--limit" -> limit = Integer.parseInt(args[++i]);
                case "--batch-share" -> share = Double.parseDouble(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--db" -> db = args[++i];
                case "--port-base" -> ServiceProcess.portBase(Integer.parseInt(args[++i]));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        List<JsonNode> tasks = new ArrayList<>();
        JsonNode file = JSON.readTree(root.resolve(
                "oracle-service/src/main/resources/dev/tandem/oracle/cli/sample-tasks.json").toFile());
        for (JsonNode t : file.path("tasks")) {
            if (tasks.size() < limit) {
                tasks.add(t);
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        Set<Integer> batch = new HashSet<>(order.subList(0, (int) Math.round(share * tasks.size())));

        Path out = root.resolve("system-tests/target/bench");
        Files.createDirectories(out);
        StreamBenchmark.log("batch stream: %d sample tasks, %d of them BATCH-class in the mixed stream (seed %d); "
                + "batch prices at 50 %% of each model's prices; load average %s", tasks.size(), batch.size(), seed,
                loadAverage());
        Result interactive = stream("all interactive", root, db, tasks, Set.of(), out);
        Result mixed = stream(String.format(Locale.ROOT, "%.0f %% batch", 100 * share), root, db, tasks, batch, out);
        double ratio = mixed.meterUsd() / interactive.meterUsd();
        double costShare = batchShareOfCost(interactive.taskUsd(), batch);
        // What fraction of the batch tasks' interactive cost the mixed stream saved: 0.5 when the whole 50 % discount
        // reached the bill and nothing else moved.
        double savedOfBatchCost = (1 - ratio) / costShare;
        StreamBenchmark.log("mixed / all-interactive = %.4f (router meter), %.4f (tasks' Cost.actual_usd); the BATCH "
                        + "tasks carried %.1f %% of the all-interactive stream's cost, and the mixed stream saved "
                        + "%.1f %% of that", ratio, mixed.reportedUsd() / interactive.reportedUsd(), 100 * costShare,
                100 * savedOfBatchCost);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("tasks", tasks.size());
        report.put("batch_share", share);
        report.put("seed", seed);
        report.put("load_average_at_end", loadAverage());
        report.put("runs", List.of(interactive, mixed));
        report.put("ratio_meter", ratio);
        report.put("ratio_reported", mixed.reportedUsd() / interactive.reportedUsd());
        report.put("batch_tasks_share_of_interactive_cost", costShare);
        report.put("saved_share_of_batch_tasks_cost", savedOfBatchCost);
        JSON.writeValue(out.resolve("batch-stream.json").toFile(), report);
    }

    /** The catalog both the router and the worker read: the embedded models with batch prices at half price. */
    static Map<String, String> batchPrices() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("tandem.catalog.models.\"" + WORKER + "\".batch-input-usd-per-mtok", "0.01");
        p.put("tandem.catalog.models.\"" + WORKER + "\".batch-output-usd-per-mtok", "0.01");
        p.put("tandem.catalog.models.\"" + ORACLE + "\".batch-input-usd-per-mtok", "1.50");
        p.put("tandem.catalog.models.\"" + ORACLE + "\".batch-output-usd-per-mtok", "7.50");
        return p;
    }

    private static Result stream(String name, Path root, String db, List<JsonNode> tasks, Set<Integer> batch,
                                 Path out) throws Exception {
        Map<String, String> router = new LinkedHashMap<>(batchPrices());
        router.put("tandem.router.oracle-model", ORACLE);
        long t0 = System.nanoTime();
        try (BenchStack stack = BenchStack.start(batchPrices(), db, router, Map.of(),
                out.resolve("logs/batch-" + (batch.isEmpty() ? "interactive" : "mixed")))) {
            double reported = 0;
            double allOracle = 0;
            double discount = 0;
            int failed = 0;
            List<Double> taskUsd = new ArrayList<>();
            for (int i = 0; i < tasks.size(); i++) {
                JsonNode t = tasks.get(i);
                ExecuteRequest.Builder request = ExecuteRequest.newBuilder().setTask(t.path("task").asText())
                        .setLatencyClass(batch.contains(i) ? LatencyClass.LATENCY_CLASS_BATCH
                                : LatencyClass.LATENCY_CLASS_STANDARD);
                t.path("inputs").fields().forEachRemaining(e -> request.putInputs(e.getKey(), e.getValue().asText()));
                Task task = stack.oracle().submitTask(SubmitTaskRequest.newBuilder().setRequest(request).build())
                        .getTask();
                task = await(stack, task.getTaskId());
                if (task.getState() != TaskState.TASK_STATE_SUCCEEDED) {
                    failed++;
                    StreamBenchmark.log("  %s: task %d %s: %s", name, i + 1, task.getState(), task.getErrorMessage());
                    taskUsd.add(Double.NaN);
                    continue;
                }
                taskUsd.add(task.getResponse().getCost().getActualUsd());
                reported += task.getResponse().getCost().getActualUsd();
                allOracle += task.getResponse().getCost().getAllOracleUsd();
                discount += task.getResponse().getCost().getBatchDiscountUsd();
            }
            double meter = stack.settledSpendUsd();
            var r = new Result(name, tasks.size(), batch.size(), failed, meter, reported, allOracle, discount,
                    (System.nanoTime() - t0) / 1e9, taskUsd);
            StreamBenchmark.log("%s: %d tasks (%d BATCH, %d failed): meter $%.6f, tasks' actual $%.6f, all-oracle "
                            + "$%.6f, batch discount $%.6f, %.0f s", name, r.tasks(), r.batchTasks(), r.failed(),
                    r.meterUsd(), r.reportedUsd(), r.allOracleUsd(), r.batchDiscountUsd(), r.seconds());
            return r;
        }
    }

    private static Task await(BenchStack stack, String id) throws InterruptedException {
        while (true) {
            Task t = stack.oracle().getTask(GetTaskRequest.newBuilder().setTaskId(id).build()).getTask();
            switch (t.getState()) {
                case TASK_STATE_SUCCEEDED, TASK_STATE_FAILED, TASK_STATE_CANCELLED -> {
                    return t;
                }
                default -> Thread.sleep(10);
            }
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
