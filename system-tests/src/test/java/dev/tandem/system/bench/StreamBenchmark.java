package dev.tandem.system.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.router.v1.CascadeMode;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.router.v1.Tier;
import dev.tandem.system.bench.ReplayServices.Outcome;
import dev.tandem.system.launch.MetricsText;

/**
 * Issue 15's whole-system measurement on a replay file ({@code bin/bench-routing stream [FILE]}): the questions in a
 * seeded order ({@link StreamOrder}) as ONE production stream through {@code OracleService.Execute}, one task after
 * the other, on a fresh stack (fresh audit database) per value of the one quality knob, the audit's outgoing-error
 * target A for the {@code solve} worker type. Nothing else is set per run: the router's cost model and exploration
 * budget and every other audit setting are the services' defaults, the catalog is the replay benchmark's
 * ({@link ReplayServices#routerConfig}, quality target 0 so that A and the cost model, not a second quality gate,
 * decide). The system learns online: every review, escalation and exploration is paid and measured by the router's
 * own cost meter ({@code tandem_router_cost_usd_total}, read after every task: what a task's shadow reviews cost is
 * charged when the meter records it); the all-oracle baseline is measured in the same run, every question sent to
 * the strong model on a separate stack (and the weak one, for reference). Per A: accuracy by the scorer
 * ({@link ReplayServices#scored}), cost vs all-oracle, the largest and 95th-percentile cost ratio of the windows of
 * 20 consecutive tasks from the first ({@link CostWindows}), shares reviewed and escalated, and the audit's final
 * state of the stream. With the held-out protocol, A is chosen on the tuning split by {@link ReplayBenchmark#RULE}
 * (each A on a fresh stack streaming the tuning questions in the same order) and the chosen A streams the tuning
 * questions, then the evaluation questions, on a fresh stack; only the evaluation part is reported.
 */
public final class StreamBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A of the stream's worker type: the one setting the protocol sweeps. */
    static String auditTargetKey(String workerType) {
        return "tandem.audit.target.worker-types.\"" + workerType + "\"";
    }

    /** Command-line options of {@code bin/bench-routing stream}. */
    record Options(Path root, Path file, Path data, String database, int limit, List<Double> targets, long seed,
                   int window, double windowLimit, boolean heldOut, String weakModel, String strongModel,
                   double[] weakPrice, double[] strongPrice, Map<String, String> auditOverrides, String workerType,
                   int onboard) {

        static final List<Double> DEFAULT_TARGETS = List.of(0.05, 0.10, 0.15, 0.25, 0.35);

        static Options parse(String[] args, Map<String, String> env, Path root) {
            Path file = null;
            Path data = env.containsKey("TANDEM_REPLAY_DATA") ? Path.of(env.get("TANDEM_REPLAY_DATA"))
                    : root.resolveSibling("shared").resolve("data/routellm-gsm8k");
            String db = env.getOrDefault("TANDEM_BENCH_DB", "tandem_bench");
            int limit = 0;
            List<Double> targets = DEFAULT_TARGETS;
            long seed = 15;
            int window = 20;
            double windowLimit = 1.05;
            boolean heldOut = true;
            String weakModel = Gsm8kConverter.MODELS.get(0);
            String strongModel = Gsm8kConverter.MODELS.get(1);
            double[] weakPrice = {0.60, 0.60};
            double[] strongPrice = {10.0, 30.0};
            Map<String, String> audit = new LinkedHashMap<>();
            String workerType = ReplayServices.DEFAULT_WORKER_TYPE;
            int onboard = 0;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--data" -> data = Path.of(value(args, ++i, a)).toAbsolutePath();
                    case "--db" -> db = value(args, ++i, a);
                    case "--limit" -> limit = nonNegative(value(args, ++i, a), a);
                    case "--targets" -> targets = targets(value(args, ++i, a));
                    case "--seed" -> seed = Long.parseLong(value(args, ++i, a));
                    case "--window" -> window = positive(value(args, ++i, a), a);
                    case "--window-limit" -> windowLimit = Double.parseDouble(value(args, ++i, a));
                    case "--held-out" -> heldOut = true;
                    case "--no-held-out" -> heldOut = false;
                    case "--weak" -> weakModel = value(args, ++i, a);
                    case "--strong" -> strongModel = value(args, ++i, a);
                    case "--weak-price" -> weakPrice = price(value(args, ++i, a));
                    case "--strong-price" -> strongPrice = price(value(args, ++i, a));
                    case "--worker-type" -> workerType = ReplayServices.workerType(value(args, ++i, a));
                    case "--onboard" -> onboard = nonNegative(value(args, ++i, a), a);
                    case "--audit" -> {
                        // diagnostics only: the protocol sets nothing but A
                        String[] kv = value(args, ++i, a).split("=", 2);
                        if (kv.length != 2 || !kv[0].startsWith("tandem.audit.") || kv[0].startsWith("tandem.audit.target.")) {
                            throw new IllegalArgumentException("--audit takes tandem.audit.KEY=VALUE, not A itself "
                                    + "(that is --targets): " + args[i]);
                        }
                        audit.put(kv[0], kv[1]);
                    }
                    default -> {
                        if (a.startsWith("-")) {
                            throw new IllegalArgumentException("unknown option " + a + " (bin/bench-routing --help)");
                        }
                        if (file != null) {
                            throw new IllegalArgumentException("one replay file only: " + file + " and " + a);
                        }
                        file = Path.of(a).toAbsolutePath();
                    }
                }
            }
            if (!db.matches("[a-z0-9_]+")) {
                throw new IllegalArgumentException("--db must be [a-z0-9_]+: " + db);
            }
            return new Options(root, file, data, db, limit, targets, seed, window, windowLimit, heldOut, weakModel,
                    strongModel, weakPrice, strongPrice, Map.copyOf(audit), workerType, onboard);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }

        /** A values: comma-separated shares in (0, 1), each at most once. */
        static List<Double> targets(String csv) {
            List<Double> out = new ArrayList<>();
            for (String s : csv.split(",")) {
                double a;
                try {
                    a = Double.parseDouble(s.strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--targets takes outgoing-error targets A as shares, e.g. "
                            + "0.05,0.10: '" + s.strip() + "' is no number");
                }
                if (!(a > 0 && a < 1)) {
                    throw new IllegalArgumentException("an outgoing-error target A is a share in (0, 1), e.g. 0.05 for "
                            + "5 %: " + s.strip());
                }
                if (out.contains(a)) {
                    throw new IllegalArgumentException("A = " + a + " is listed twice in --targets");
                }
                out.add(a);
            }
            return List.copyOf(out);
        }

        private static double[] price(String csv) {
            String[] p = csv.split(",");
            if (p.length != 2) {
                throw new IllegalArgumentException("a price is input,output USD per 1M tokens: " + csv);
            }
            return new double[] {Double.parseDouble(p[0].strip()), Double.parseDouble(p[1].strip())};
        }

        private static int nonNegative(String v, String option) {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new IllegalArgumentException(option + " must be >= 0: " + v);
            }
            return n;
        }

        private static int positive(String v, String option) {
            int n = Integer.parseInt(v);
            if (n < 1) {
                throw new IllegalArgumentException(option + " must be >= 1: " + v);
            }
            return n;
        }
    }

    /** What the baseline stack measured for one question: always-weak and always-strong, each by Dispatch. */
    record Baseline(Outcome weak, Outcome strong) {
    }

    /** One task of a stream: its outcome, what the meter charged while it ran, what Execute reported. */
    record Task(int index, String id, String split, Outcome outcome, double meterUsd, double reportedUsd,
                double reportedAllOracleUsd, double explorationUsd, double allStrongUsd, String executedBy,
                String auditMode, String auditReason, String trustState, String routing) {
    }

    /** One stream's summary. */
    record Run(String name, double target, String part, int tasks, double accuracy, double labelAccuracy,
               double costUsd, double allStrongUsd, double costShare, double reportedShare, double explorationUsd,
               CostWindows windows, double weakAnswered, double reviewedBlocking, double reviewedShadow,
               double escalated, int errors, List<Double> blocks, Map<String, Object> auditStream,
               List<String> stateChanges, Map<String, Double> trustRouting, Map<String, Double> decisionsByModel,
               double seconds) {
    }

    private final Options options;
    private final ReplayDataset data;
    private final ReplayServices services;
    private final Map<String, Object> report = new LinkedHashMap<>();
    private final List<Run> runs = new ArrayList<>();
    private final Map<String, Baseline> baselines = new LinkedHashMap<>();
    private Path out;
    private Instant started;
    /** Golden items the weak model is onboarded on before every stream (none: no onboarding). */
    private List<Map<String, Object>> golden = List.of();

    private StreamBenchmark(Options options, ReplayDataset data) {
        this.options = options;
        this.data = data;
        this.services = new ReplayServices(data, options.workerType(), options.weakModel(), options.strongModel(),
                options.weakPrice(), options.strongPrice());
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(System.getProperty("tandem.root", "..")).toAbsolutePath().normalize();
        Options options = Options.parse(args, System.getenv(), root);
        Path file = options.file();
        if (file == null) {
            if (!Files.isRegularFile(options.data().resolve("gsm8k_responses.csv"))) {
                System.out.println("bench-routing stream: skipped, no replay file given and the GSM8K data is not at "
                        + options.data() + " (../shared/data/routellm-gsm8k beside the checkout; --data or "
                        + "TANDEM_REPLAY_DATA elsewhere)");
                return;
            }
            file = root.resolve("system-tests/target/bench/gsm8k.jsonl");
            Gsm8kConverter.Summary s = Gsm8kConverter.convert(options.data(), file);
            ReplayBenchmark.log("converted %s: %d questions (%d contaminated left out) to %s", options.data(),
                    s.written(), s.contaminated(), file);
        }
        ReplayDataset data = ReplayDataset.load(file, List.of(options.weakModel(), options.strongModel()));
        new StreamBenchmark(options, data).run();
    }

    private void run() throws Exception {
        started = Instant.now();
        out = options.root().resolve("system-tests/target/bench");
        Files.createDirectories(out);
        List<ReplayDataset.Question> all = new ArrayList<>();
        all.addAll(data.onboarding);
        all.addAll(data.selection);
        all.addAll(data.evaluation);
        List<ReplayDataset.Question> stream = StreamOrder.of(all, options.seed());
        if (options.limit() > 0 && stream.size() > options.limit()) {
            stream = stream.subList(0, options.limit());
        }
        List<ReplayDataset.Question> tuning = stream.stream()
                .filter(q -> q.split() != ReplayDataset.Split.EVALUATION).toList();
        List<ReplayDataset.Question> evaluation = stream.stream()
                .filter(q -> q.split() == ReplayDataset.Split.EVALUATION).toList();
        log("data: %s, %d prompts; the stream: %d questions in the order of seed %d (tuning %d, evaluation %d); "
                + "A in %s; windows of %d tasks against %.2f x all-oracle", data.file, data.total(), stream.size(),
                options.seed(), tuning.size(), evaluation.size(), options.targets(), options.window(),
                options.windowLimit());
        report.put("file", data.file.toString());
        report.put("seed", options.seed());
        report.put("questions", Map.of("stream", stream.size(), "tuning", tuning.size(),
                "evaluation", evaluation.size()));
        report.put("targets", options.targets());
        report.put("window", options.window());
        report.put("window_limit", options.windowLimit());
        report.put("prices_usd_per_mtok", Map.of(services.weak, options.weakPrice(), services.strong,
                options.strongPrice()));
        report.put("load_average_at_start", loadAverage());
        report.put("audit_overrides", options.auditOverrides());
        if (options.onboard() > 0) {
            golden = goldenSet(tuning, options.onboard());
            report.put("onboarding", Map.of("items", golden.size(), "drawn_from", "tuning split, onboarding part, "
                    + "first in the stream's order", "reference", "test.jsonl's final number"));
            log("onboarding: %s on %s with %d golden items of the tuning split's onboarding part (references from "
                    + "test.jsonl) before every stream", services.weak, services.workerType, golden.size());
        }
        if (!options.auditOverrides().isEmpty()) {
            log("DIAGNOSTIC: audit settings besides A: %s (not the issue's protocol, which sets A only)",
                    options.auditOverrides());
        }

        // 1. The baselines, on a stack of their own (Dispatch only, nothing reviewed, so nothing is learned and no
        //    stream of the runs below sees them): every question to the strong model, and to the weak one.
        try (BenchStack stack = BenchStack.start(services.workerConfig(), options.database(),
                services.routerConfig(0, 0), Map.of(), out.resolve("logs/stream-baselines"), false)) {
            List<Outcome> strong = dispatchAll("always-strong", stack, stream, d -> d
                    .setRequirements(StepRequirements.newBuilder().setMinTier(Tier.TIER_ORACLE))
                    .setCascade(CascadeMode.CASCADE_MODE_OFF));
            List<Outcome> weak = dispatchAll("always-weak", stack, stream, d -> d
                    .addExcludeModels(services.strong).setCascade(CascadeMode.CASCADE_MODE_OFF));
            for (int i = 0; i < stream.size(); i++) {
                baselines.put(stream.get(i).id(), new Baseline(weak.get(i), strong.get(i)));
            }
        }
        report.put("baselines", Map.of("stream", baselineSummary(stream), "tuning", baselineSummary(tuning),
                "evaluation", baselineSummary(evaluation)));
        summarise();

        // 2. The whole stream once per A, each on a fresh stack and a fresh ledger.
        for (double a : options.targets()) {
            runs.add(stream("stream", a, List.of(), stream));
            summarise();
        }

        // 3. Held out: A chosen on the tuning split (each A streaming the tuning questions on a fresh stack), the
        //    chosen A on a fresh stack streaming the tuning questions, then the evaluation ones (reported).
        if (options.heldOut() && !tuning.isEmpty() && !evaluation.isEmpty()) {
            List<Run> tuned = new ArrayList<>();
            for (double a : options.targets()) {
                Run r = stream("tuning", a, List.of(), tuning);
                tuned.add(r);
                runs.add(r);
                summarise();
            }
            double goal = 0.95 * accuracy(tuning, Baseline::strong);
            Run pick = choose(tuned, goal);
            report.put("held_out_choice", Map.of("rule", ReplayBenchmark.RULE, "goal_accuracy_tuning", goal,
                    "chosen_target", pick.target()));
            log("held out: A = %s chosen on the tuning split (%.1f %% at %.1f %% of all-strong; goal %.1f %%)",
                    pick.target(), 100 * pick.accuracy(), 100 * pick.costShare(), 100 * goal);
            runs.add(stream("evaluation", pick.target(), tuning, evaluation));
        }
        summarise();
    }

    /** {@link ReplayBenchmark#RULE} over whole-system runs: the cheapest at the goal, else the most accurate. */
    static Run choose(List<Run> candidates, double goal) {
        return candidates.stream().filter(r -> r.accuracy() >= goal)
                .min(java.util.Comparator.comparingDouble(Run::costUsd))
                .orElseGet(() -> candidates.stream().max(java.util.Comparator.comparingDouble(Run::accuracy)
                        .thenComparing(java.util.Comparator.comparingDouble(Run::costUsd).reversed()))
                        .orElseThrow());
    }

    private List<Outcome> dispatchAll(String what, BenchStack stack, List<ReplayDataset.Question> qs,
                                      Function<DispatchRequest.Builder, DispatchRequest.Builder> shape)
            throws Exception {
        long t0 = System.nanoTime();
        Semaphore slots = new Semaphore(4);
        List<Future<Outcome>> futures = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (ReplayDataset.Question q : qs) {
                slots.acquire();
                futures.add(threads.submit(() -> {
                    try {
                        DispatchResponse r = stack.router().dispatch(shape.apply(DispatchRequest.newBuilder()
                                .setTaskId("baseline-" + what + "-" + q.id()).setStepId(services.workerType)
                                .setWorkerType(services.workerType).putInputs("question", q.prompt()))
                                .build());
                        return services.scored(q, r.getResult().getOutput(), r.getResult().getModelId(),
                                r.getCostUsd(), false, false, false, "dispatch");
                    } finally {
                        slots.release();
                    }
                }));
            }
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (Future<Outcome> f : futures) {
            outcomes.add(f.get());
        }
        long errors = outcomes.stream().filter(o -> o.error() != null).count();
        log("%s: %d questions, accuracy %.3f, $%.4f, %d errors, %.0f s", what, qs.size(),
                outcomes.stream().filter(Outcome::correct).count() / (double) Math.max(1, qs.size()),
                outcomes.stream().mapToDouble(Outcome::costUsd).sum(), errors, (System.nanoTime() - t0) / 1e9);
        if (errors > 0) {
            throw new IllegalStateException(what + ": " + errors + " baseline answers are no recorded response; first: "
                    + outcomes.stream().filter(o -> o.error() != null).findFirst().orElseThrow().error());
        }
        return outcomes;
    }

    private Map<String, Object> baselineSummary(List<ReplayDataset.Question> qs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("questions", qs.size());
        m.put("strong_accuracy", accuracy(qs, Baseline::strong));
        m.put("strong_cost_usd", qs.stream().mapToDouble(q -> baselines.get(q.id()).strong().costUsd()).sum());
        m.put("weak_accuracy", accuracy(qs, Baseline::weak));
        m.put("weak_cost_usd", qs.stream().mapToDouble(q -> baselines.get(q.id()).weak().costUsd()).sum());
        return m;
    }

    private double accuracy(List<ReplayDataset.Question> qs, Function<Baseline, Outcome> which) {
        return qs.isEmpty() ? 0
                : qs.stream().filter(q -> which.apply(baselines.get(q.id())).correct()).count() / (double) qs.size();
    }

    /**
     * One production stream on a fresh stack with the audit's target A for solve: {@code before} first (learning,
     * not reported), then {@code measured}, one task after the other.
     */
    private Run stream(String part, double a, List<ReplayDataset.Question> before,
                       List<ReplayDataset.Question> measured) throws Exception {
        String name = String.format(Locale.ROOT, "%s, A = %s", part, a);
        Map<String, String> audit = new LinkedHashMap<>(options.auditOverrides());
        audit.put(auditTargetKey(services.workerType), String.valueOf(a));
        long t0 = System.nanoTime();
        try (BenchStack stack = BenchStack.start(services.workerConfig(), options.database(),
                services.routerConfig(0, 0), audit, out.resolve("logs/stream-" + part + "-" + a))) {
            if (!golden.isEmpty()) {
                onboard(name, stack);
            }
            if (!before.isEmpty()) {
                log("%s: %d tuning questions first (learning, not reported)", name, before.size());
                runTasks(name + " (tuning first)", stack, before);
            }
            List<Task> tasks = runTasks(name, stack, measured);
            double tail = stack.settledSpendUsd() - lastMeter;
            if (!tasks.isEmpty() && tail > 0) {
                // shadow reviews that settle after the last task: charged to it, so the stream's sum is the meter's
                Task last = tasks.removeLast();
                tasks.add(new Task(last.index(), last.id(), last.split(), last.outcome(), last.meterUsd() + tail,
                        last.reportedUsd(), last.reportedAllOracleUsd(), last.explorationUsd(), last.allStrongUsd(),
                        last.executedBy(), last.auditMode(), last.auditReason(), last.trustState(), last.routing()));
            }
            Run run = summary(name, a, part, tasks, stack, (System.nanoTime() - t0) / 1e9);
            writeTasks(part, a, tasks);
            log("%s: accuracy %.1f %% (all-strong %.1f %%), cost %.1f %% of all-strong (Execute's own figure %.1f %%), "
                            + "windows of %d: max %.3f (from task %d), p95 %.3f, %d over %.2f; reviewed %.1f %% "
                            + "blocking + %.1f %% shadow, escalated %.1f %%, weak answered %.1f %%; audit stream %s; "
                            + "%d tasks failed",
                    name, 100 * run.accuracy(), 100 * accuracy(measured, Baseline::strong), 100 * run.costShare(),
                    100 * run.reportedShare(), run.windows().width(), run.windows().max(), run.windows().maxStart(),
                    run.windows().p95(), run.windows().over(), run.windows().limit(), 100 * run.reviewedBlocking(),
                    100 * run.reviewedShadow(), 100 * run.escalated(), 100 * run.weakAnswered(),
                    run.auditStream().get("state"), run.errors());
            tasks.stream().filter(t -> t.outcome().error() != null).limit(3)
                    .forEach(t -> log("    task %d failed: %s", t.index(), t.outcome().error()));
            return run;
        }
    }

    /**
     * The golden set: the first {@code n} questions of the tuning split's onboarding part in the stream's order,
     * each with its reference answer from the GSM8K data's {@code test.jsonl} (never an evaluation question).
     */
    private List<Map<String, Object>> goldenSet(List<ReplayDataset.Question> tuning, int n) throws Exception {
        Path test = options.data().resolve("test.jsonl");
        if (!Files.isRegularFile(test)) {
            throw new IllegalArgumentException("--onboard needs the GSM8K references at " + test);
        }
        Map<String, String> references = new java.util.HashMap<>();
        for (String line : Files.readAllLines(test, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                JsonNode node = JSON.readTree(line);
                Gsm8kAnswers.finalNumber(node.path("answer").asText()).ifPresent(
                        r -> references.put(node.path("question").asText(), r.toPlainString()));
            }
        }
        List<Map<String, Object>> items = new ArrayList<>();
        for (ReplayDataset.Question q : tuning) {
            if (items.size() == n) {
                break;
            }
            if (q.split() != ReplayDataset.Split.ONBOARDING) {
                continue;
            }
            String reference = references.get(q.prompt());
            if (reference == null) {
                throw new IllegalStateException("no reference in test.jsonl for " + q.id());
            }
            items.add(Map.of("id", q.id(), "inputs", Map.of("question", q.prompt()),
                    "expected", Map.of("answer", new java.math.BigDecimal(reference))));
        }
        return List.copyOf(items);
    }

    /** bin/onboard's two calls: the worker evaluates the weak model on the golden set, the audit records it. */
    private void onboard(String name, BenchStack stack) throws Exception {
        Map<String, Object> body = Map.of("model", services.weak, "worker_type", services.workerType,
                "items", golden);
        JsonNode answer = JSON.readTree(stack.worker.post("/api/onboarding/evaluate", JSON.writeValueAsString(body)));
        stack.audit.put("/api/onboarding", JSON.writeValueAsString(answer.path("evidence")));
        log("%s: onboarded %s: %d of %d golden items wrong", name, services.weak,
                answer.path("evaluation").path("rejected").asLong(), answer.path("evaluation").path("items").asLong());
        // The router polls the audit's streams every 2 s on the bench stack, but its client's circuit breaker, opened
        // by the polls that ran before the audit was up, keeps it from polling for 30 s: wait until the router's dry
        // run names the evidence (a stream it retires, or explores on a projection from it), at most 40 s.
        long until = System.nanoTime() + 40_000_000_000L;
        String route = "/api/route?worker_type=" + services.workerType;
        while (System.nanoTime() < until && !stack.router.get(route).contains("onboarding")) {
            Thread.sleep(500);
        }
    }

    private double lastMeter;

    private List<Task> runTasks(String name, BenchStack stack, List<ReplayDataset.Question> qs) throws Exception {
        List<Task> tasks = new ArrayList<>();
        lastMeter = stack.routerSpendUsd();
        int right = 0;
        for (int i = 0; i < qs.size(); i++) {
            ReplayDataset.Question q = qs.get(i);
            Outcome o;
            ExecuteResponse r = null;
            try {
                r = services.executeRaw(stack, q);
                o = services.outcome(q, r);
            } catch (RuntimeException e) {
                o = new Outcome(q.prompt(), "", false, false, 0, false, false, false, e.toString(), "error");
            }
            double meter = stack.routerSpendUsd();
            StepResult step = r == null || r.getStepsCount() == 0 ? null : r.getSteps(0);
            tasks.add(new Task(i + 1, q.id(), q.split().name().toLowerCase(Locale.ROOT), o, meter - lastMeter,
                    r == null ? 0 : r.getCost().getActualUsd(), r == null ? 0 : r.getCost().getAllOracleUsd(),
                    r == null ? 0 : r.getCost().getExplorationUsd(), baselines.get(q.id()).strong().costUsd(),
                    step == null ? "" : step.getExecutedBy(), step == null ? "" : step.getAudit().getMode(),
                    step == null ? "" : step.getAudit().getReason(), step == null ? "" : step.getAudit().getTrustState(),
                    step == null ? "" : step.getRouting()));
            lastMeter = meter;
            right += o.correct() ? 1 : 0;
            if ((i + 1) % 100 == 0) {
                double spent = tasks.stream().mapToDouble(Task::meterUsd).sum();
                double strong = tasks.stream().mapToDouble(Task::allStrongUsd).sum();
                log("  %s: %d/%d, accuracy so far %.3f, cost so far %.1f %% of all-strong", name, i + 1, qs.size(),
                        right / (double) (i + 1), 100 * spent / strong);
            }
        }
        return tasks;
    }

    private Run summary(String name, double a, String part, List<Task> tasks, BenchStack stack, double seconds)
            throws Exception {
        int n = tasks.size();
        double[] actual = tasks.stream().mapToDouble(Task::meterUsd).toArray();
        double[] strong = tasks.stream().mapToDouble(Task::allStrongUsd).toArray();
        CostWindows windows = CostWindows.of(actual, strong, options.window(), options.windowLimit());
        double cost = sum(actual);
        double allStrong = sum(strong);
        double reported = tasks.stream().mapToDouble(Task::reportedUsd).sum();
        double reportedBase = tasks.stream().mapToDouble(Task::reportedAllOracleUsd).sum();
        List<Double> blocks = new ArrayList<>();
        for (int from = 0; from < n; from += 100) {
            int to = Math.min(n, from + 100);
            blocks.add(sum(java.util.Arrays.copyOfRange(actual, from, to))
                    / sum(java.util.Arrays.copyOfRange(strong, from, to)));
        }
        return new Run(name, a, part, n, share(tasks, t -> t.outcome().correct()),
                share(tasks, t -> t.outcome().labelCorrect()), cost, allStrong, cost / allStrong,
                reportedBase > 0 ? reported / reportedBase : Double.NaN,
                tasks.stream().mapToDouble(Task::explorationUsd).sum(), windows,
                share(tasks, t -> t.outcome().finalModel().equals(services.weak)),
                share(tasks, t -> t.auditMode().equals("blocking")), share(tasks, t -> t.auditMode().equals("shadow")),
                share(tasks, t -> t.outcome().escalated()), (int) tasks.stream().filter(t -> t.outcome().error() != null)
                        .count(), blocks, auditStream(stack), stateChanges(stack),
                metric(stack.router.get("/q/metrics"), "tandem_router_trust_routing_total", "choice"),
                metric(stack.router.get("/q/metrics"), "tandem_router_decisions_total", "model"), seconds);
    }

    private static double sum(double[] xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s;
    }

    private static double share(List<Task> tasks, java.util.function.Predicate<Task> p) {
        return tasks.isEmpty() ? 0 : tasks.stream().filter(p).count() / (double) tasks.size();
    }

    /** The weak model's solve stream as the audit service shows it at the end (its admin API). */
    private Map<String, Object> auditStream(BenchStack stack) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        for (JsonNode s : JSON.readTree(stack.audit.get("/api/streams"))) {
            if (!s.path("workerBackend").asText().equals(services.weak)
                    || !s.path("workerType").asText().equals(services.workerType)) {
                continue;
            }
            for (String f : List.of("state", "decided", "reviewed", "rejected", "thresholdCertified",
                    "rawConfidenceThreshold", "samplingRate", "blockingSampleRate", "errorRate", "outgoingErrorRate",
                    "outgoingErrorUpperBound", "errorRateUpperBound", "certification", "driftAlarms")) {
                JsonNode v = s.path(f);
                m.put(f, v.isNumber() ? v.numberValue() : v.isBoolean() ? v.booleanValue() : v.asText());
            }
        }
        if (m.isEmpty()) {
            m.put("state", "never decided (no step of the weak model reached the audit)");
        }
        return m;
    }

    private List<String> stateChanges(BenchStack stack) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode c : JSON.readTree(stack.audit.get("/api/state-changes?worker_backend=" + services.weak
                + "&worker_type=" + services.workerType + "&limit=50"))) {
            out.add(c.path("changedAt").asText() + " " + c.path("from").asText("new") + " -> "
                    + c.path("to").asText() + ": " + c.path("reason").asText());
        }
        return out;
    }

    /** A Prometheus counter summed per value of one label. */
    static Map<String, Double> metric(String exposition, String name, String label) {
        Map<String, Double> out = new TreeMap<>();
        for (var sample : MetricsText.samples(exposition)) {
            if (!sample.name().equals(name)) {
                continue;
            }
            String labels = sample.labels();
            int at = labels.indexOf(label + "=\"");
            String key = at < 0 ? "" : labels.substring(at + label.length() + 2, labels.indexOf('"',
                    at + label.length() + 2));
            out.merge(key, sample.value(), Double::sum);
        }
        return out;
    }

    private void writeTasks(String part, double a, List<Task> tasks) throws Exception {
        StringBuilder csv = new StringBuilder("index,id,split,correct,final_model,meter_usd,all_strong_usd,"
                + "reported_usd,reported_all_oracle_usd,exploration_usd,executed_by,audit_mode,audit_reason,trust_state,"
                + "escalated,error,routing\n");
        for (Task t : tasks) {
            csv.append(String.format(Locale.ROOT, "%d,%s,%s,%s,%s,%.8f,%.8f,%.8f,%.8f,%.8f,%s,%s,%s,%s,%s,%s,%s%n",
                    t.index(), t.id(), t.split(), t.outcome().correct(), t.outcome().finalModel(), t.meterUsd(),
                    t.allStrongUsd(), t.reportedUsd(), t.reportedAllOracleUsd(), t.explorationUsd(), t.executedBy(),
                    t.auditMode(), t.auditReason(), t.trustState(), t.outcome().escalated(),
                    t.outcome().error() == null ? "" : quoted(t.outcome().error()), quoted(t.routing())));
        }
        Files.writeString(out.resolve("stream-" + stamp() + "-" + part + "-" + a + ".csv"), csv.toString(),
                StandardCharsets.UTF_8);
    }

    private static String quoted(String s) {
        return "\"" + s.replace("\"", "'").replace('\n', ' ') + "\"";
    }

    private String stamp() {
        return started.toString().replace(':', '-');
    }

    private void summarise() throws Exception {
        report.put("started", started.toString());
        report.put("duration_s", Duration.between(started, Instant.now()).toSeconds());
        report.put("load_average_now", loadAverage());
        report.put("runs", runs);
        StringBuilder md = new StringBuilder();
        md.append("| stream | A | tasks | accuracy | vs all-strong's | cost vs all-strong | Execute's own ratio | "
                + "largest / p95 window | windows over | answered by weak | reviewed blocking / shadow | escalated | "
                + "errors | audit stream at the end |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Run r : runs) {
            double strongAccuracy = r.part().equals("evaluation") ? accuracy(evaluationOf(), Baseline::strong)
                    : r.part().equals("tuning") ? accuracy(tuningOf(), Baseline::strong)
                    : accuracy(streamOf(), Baseline::strong);
            md.append(String.format(Locale.ROOT, "| %s | %.0f %% | %d | %.1f %% | %.1f %% | %.1f %% | %.1f %% | "
                            + "%.3f / %.3f | %d of %d | %.1f %% | %.1f %% / %.1f %% | %.1f %% | %d | %s |%n",
                    r.part(), 100 * r.target(), r.tasks(), 100 * r.accuracy(), 100 * r.accuracy() / strongAccuracy,
                    100 * r.costShare(), 100 * r.reportedShare(), r.windows().max(), r.windows().p95(),
                    r.windows().over(), r.windows().windows(), 100 * r.weakAnswered(), 100 * r.reviewedBlocking(),
                    100 * r.reviewedShadow(), 100 * r.escalated(), r.errors(), auditLine(r.auditStream())));
        }
        md.append("\nCost per block of 100 tasks (actual / all-strong):\n\n");
        for (Run r : runs) {
            md.append("- ").append(r.name()).append(": ").append(r.blocks().stream()
                    .map(b -> String.format(Locale.ROOT, "%.1f %%", 100 * b)).toList()).append('\n');
        }
        md.append(String.format(Locale.ROOT, "%nBaselines (same run, own stack): %s%n", report.get("baselines")));
        if (report.containsKey("held_out_choice")) {
            md.append(String.format(Locale.ROOT, "Held out: %s%n", report.get("held_out_choice")));
        }
        md.append(String.format(Locale.ROOT, "Load average: %s at the start, %s now.%n",
                report.get("load_average_at_start"), report.get("load_average_now")));
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(out.resolve("stream-" + stamp() + ".json").toFile(), report);
        Files.writeString(out.resolve("stream-" + stamp() + ".md"), md.toString(), StandardCharsets.UTF_8);
        System.out.println();
        System.out.println(md);
        log("results: %s", out.resolve("stream-" + stamp() + ".{json,md}"));
    }

    private List<ReplayDataset.Question> streamOf() {
        return baselines.keySet().stream().map(this::question).toList();
    }

    private List<ReplayDataset.Question> tuningOf() {
        return streamOf().stream().filter(q -> q.split() != ReplayDataset.Split.EVALUATION).toList();
    }

    private List<ReplayDataset.Question> evaluationOf() {
        return streamOf().stream().filter(q -> q.split() == ReplayDataset.Split.EVALUATION).toList();
    }

    private final Map<String, ReplayDataset.Question> byId = new LinkedHashMap<>();

    private ReplayDataset.Question question(String id) {
        if (byId.isEmpty()) {
            for (List<ReplayDataset.Question> part : List.of(data.onboarding, data.selection, data.evaluation)) {
                part.forEach(q -> byId.put(q.id(), q));
            }
        }
        return byId.get(id);
    }

    private static String auditLine(Map<String, Object> s) {
        if (!s.containsKey("decided")) {
            return String.valueOf(s.get("state"));
        }
        return String.format(Locale.ROOT, "%s, %s decided, %s reviewed (%s rejected), threshold %s, blocking sample "
                        + "%.2f, outgoing error %.1f %% (upper %.1f %%)", s.get("state"), s.get("decided"),
                s.get("reviewed"), s.get("rejected"), Boolean.TRUE.equals(s.get("thresholdCertified")) ? "certified"
                        : "not certified", ((Number) s.get("blockingSampleRate")).doubleValue(),
                100 * ((Number) s.get("outgoingErrorRate")).doubleValue(),
                100 * ((Number) s.get("outgoingErrorUpperBound")).doubleValue());
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (Exception e) {
            return "unknown";
        }
    }

    static void log(String format, Object... args) {
        ReplayBenchmark.log(format, args);
    }
}
