package dev.tandem.router.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.CascadeMode;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.router.v1.Tier;
import dev.tandem.proto.worker.v1.ReviewVerdict;

/**
 * The replay benchmark (issue 4 item 8, issue 17), through the real services: oracle, router, worker (replay of
 * recorded answers from a JSONL replay file; by default the shared RouteLLM GSM8K data converted by
 * {@link Gsm8kConverter}) and audit as separate processes. The scorer here ({@link ReplayDataset}) is the only reader
 * of {@code correct}. Settings are measured and chosen on the tuning split's selection part by {@link #RULE}, then
 * only the chosen ones (and, for the curve, those on the selection split's cost-quality frontier) run on the
 * evaluation split. See docs/benchmarks.md ("Routing: GSM8K replay") for the method; run with
 * {@code bin/bench-routing [FILE]}.
 */
public final class ReplayBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The worker type the prompts run as (replayed free text: the solve kind). */
    static final String WORKER_TYPE = "solve";

    /** How a setting is chosen on the selection split, before the evaluation split is run. */
    static final String RULE = "per system, the cheapest setting whose accuracy on the selection split is at least "
            + "95 % of always-strong's accuracy there; when none reaches it, the most accurate (ties: the cheaper)";

    /**
     * One question's result: which model's recorded answer was returned (found by the released text), whether it is
     * right ({@code correct} of that response in the file, the score), the file's comparison label of it
     * ({@code labelCorrect}, RouteLLM's for GSM8K, for comparison only), and what everything it took cost.
     */
    record Outcome(String prompt, String finalModel, boolean correct, boolean labelCorrect, double costUsd,
                   boolean cascaded, boolean reviewed, boolean escalated, String error, String detail) {
    }

    /** One point of the cost-quality plane on one split; {@code labelAccuracy} scores by the comparison labels. */
    record Point(String split, String system, String setting, int questions, double accuracy, double labelAccuracy,
                 double costUsd, double costShare, double strongShare, int cascaded, int reviewed, int escalated,
                 int errors, boolean chosen) {

        Point chosen(boolean chosen) {
            return new Point(split, system, setting, questions, accuracy, labelAccuracy, costUsd, costShare,
                    strongShare, cascaded, reviewed, escalated, errors, chosen);
        }

        Point costed(double cost, double strongCost) {
            return new Point(split, system, setting, questions, accuracy, labelAccuracy, cost, cost / strongCost,
                    strongShare, cascaded, reviewed, escalated, errors, chosen);
        }
    }

    /** The two single-model baselines of one split: their cost and accuracy. */
    record Baselines(double weakCost, double strongCost, double weakAccuracy, double strongAccuracy) {

        double randomAccuracyAtCost(double cost) {
            double p = Math.max(0, Math.min(1, (cost - weakCost) / (strongCost - weakCost)));
            return (1 - p) * weakAccuracy + p * strongAccuracy;
        }
    }

    static final String ROUTING = "Tandem routing alone (prompt-knn)";
    static final String CASCADE = "Tandem routing + cascade";
    static final String SYSTEM = "Tandem routing + cascade + audit";

    private final Options options;
    private final ReplayDataset data;
    private final String weak;
    private final String strong;
    private final List<Point> points = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Object> report = new LinkedHashMap<>();
    private final Map<String, Baselines> baselines = new LinkedHashMap<>();
    private volatile int run;

    /** A setting of the whole system: quality target, cascade threshold and audit preset. */
    record SystemPoint(double routeTarget, double cascadeThreshold, String auditPreset) {

        String label() {
            return String.format(Locale.ROOT, "quality target %.2f, cascade threshold %.2f, audit %s", routeTarget,
                    cascadeThreshold, auditPreset);
        }
    }

    /** Command-line options (see bin/bench-routing). */
    record Options(Path root, Path file, Path data, String database, int concurrency, int limit,
                   List<Double> routeTargets, List<SystemPoint> systemPoints, String weakModel, String strongModel,
                   double weakInUsd, double weakOutUsd, double strongInUsd, double strongOutUsd,
                   Map<String, Map<String, String>> auditPresets, long seed) {

        static Path defaultData(Path root) {
            String dataEnv = System.getenv("TANDEM_REPLAY_DATA");
            return dataEnv != null ? Path.of(dataEnv) : root.resolveSibling("shared").resolve("data/routellm-gsm8k");
        }

        static Options parse(String[] args) {
            Path root = Path.of(System.getProperty("tandem.root", "..")).toAbsolutePath().normalize();
            Path data = defaultData(root);
            Path file = null;
            String db = System.getenv().getOrDefault("TANDEM_BENCH_DB", "tandem_bench");
            int concurrency = 4;
            int limit = 0;
            List<Double> targets = List.of(0.0, 0.6, 0.65, 0.7, 0.75);
            List<SystemPoint> systems = List.of(new SystemPoint(0.0, 0, "lenient"),
                    new SystemPoint(0.65, 0, "lenient"), new SystemPoint(0.0, 0, "strict"));
            String weakModel = Gsm8kConverter.MODELS.get(0);
            String strongModel = Gsm8kConverter.MODELS.get(1);
            double[] weakPrice = {0.60, 0.60};
            double[] strongPrice = {10.0, 30.0};
            Map<String, Map<String, String>> audit = defaultAuditPresets();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--file" -> file = Path.of(args[++i]).toAbsolutePath();
                    case "--data" -> data = Path.of(args[++i]).toAbsolutePath();
                    case "--db" -> db = args[++i];
                    case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
                    case "--limit" -> limit = Integer.parseInt(args[++i]);
                    case "--route-targets" -> targets = doubles(args[++i]);
                    case "--system-points" -> systems = args[++i].equals("none") ? List.of() : pairs(args[i]);
                    case "--weak" -> weakModel = args[++i];
                    case "--strong" -> strongModel = args[++i];
                    case "--weak-price" -> weakPrice = prices(args[++i]);
                    case "--strong-price" -> strongPrice = prices(args[++i]);
                    case "--audit" -> {
                        // preset.key=value, e.g. lenient.tandem.audit.sampling.normal-rate=0.05
                        String[] kv = args[++i].split("=", 2);
                        int dot = kv[0].indexOf('.');
                        audit.computeIfAbsent(kv[0].substring(0, dot), k -> new LinkedHashMap<>())
                                .put(kv[0].substring(dot + 1), kv[1]);
                    }
                    default -> {
                        if (a.startsWith("--") || file != null) {
                            throw new IllegalArgumentException("unknown option " + a);
                        }
                        file = Path.of(a).toAbsolutePath();
                    }
                }
            }
            return new Options(root, file, data, db, concurrency, limit, targets, systems, weakModel, strongModel,
                    weakPrice[0], weakPrice[1], strongPrice[0], strongPrice[1], audit, 42);
        }
        /**
         * Audit settings, two presets. "strict" keeps the audit service's own rules (a stream earns trust once its
         * error is shown under 2 %, a certified threshold must keep the outgoing error under 1 %): the weak model's
         * stream never earns trust, so every answer of it is reviewed. "lenient" is the earlier lenient preset mapped
         * onto the audit service's current keys (not re-tuned for them): trust once the error is shown under 45 %,
         * an outgoing error of up to 45 % certifies a threshold, tightening only on two sampled rejections in a row,
         * 3 % sampling of trusted outputs (build-up sampling at the same rate).
         */
        static Map<String, Map<String, String>> defaultAuditPresets() {
            Map<String, String> lenient = new LinkedHashMap<>();
            lenient.put("tandem.audit.trust.target-error-rate", "0.45");
            lenient.put("tandem.audit.target.outgoing-error-rate", "0.45");
            lenient.put("tandem.audit.trust.tighten-within-samples", "1");
            lenient.put("tandem.audit.trust.restore-after-clean-reviews", "20");
            lenient.put("tandem.audit.trust.suspend-error-rate", "0.60");
            lenient.put("tandem.audit.sampling.normal-rate", "0.03");
            lenient.put("tandem.audit.sampling.reduced-rate", "0.01");
            lenient.put("tandem.audit.sampling.build-up-rate", "0.03");
            lenient.put("tandem.audit.sampling.confidence-threshold", "0.5");
            Map<String, Map<String, String>> presets = new LinkedHashMap<>();
            presets.put("lenient", lenient);
            presets.put("strict", new LinkedHashMap<>());
            return presets;
        }

        private static List<Double> doubles(String csv) {
            List<Double> out = new ArrayList<>();
            for (String s : csv.split(",")) {
                out.add(Double.parseDouble(s.trim()));
            }
            return out;
        }

        private static double[] prices(String csv) {
            List<Double> d = doubles(csv);
            if (d.size() != 2) {
                throw new IllegalArgumentException("a price is input,output USD per 1M tokens: " + csv);
            }
            return new double[] {d.get(0), d.get(1)};
        }

        private static List<SystemPoint> pairs(String spec) {
            List<SystemPoint> out = new ArrayList<>();
            for (String p : spec.split(";")) {
                String[] xyz = p.split(":");
                out.add(new SystemPoint(Double.parseDouble(xyz[0]), Double.parseDouble(xyz[1]),
                        xyz.length > 2 ? xyz[2] : "lenient"));
            }
            return out;
        }
    }

    private ReplayBenchmark(Options options, ReplayDataset data) {
        this.options = options;
        this.data = data;
        this.weak = replayId(options.weakModel());
        this.strong = replayId(options.strongModel());
    }

    /** The replay model id of a model of the file: "replay-" and its name after the last '/', lower case. */
    static String replayId(String model) {
        String name = model.substring(model.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9.]+", "-");
        return "replay-" + name;
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        Path file = options.file();
        if (file == null) {
            if (!Files.isRegularFile(options.data().resolve("gsm8k_responses.csv"))) {
                System.out.println("bench-routing: skipped, no replay file given and the GSM8K data is not at "
                        + options.data() + " (../shared/data/routellm-gsm8k beside the checkout; --data or "
                        + "TANDEM_REPLAY_DATA elsewhere)");
                return;
            }
            file = options.root().resolve("router-service/target/bench/gsm8k.jsonl");
            Gsm8kConverter.Summary s = Gsm8kConverter.convert(options.data(), file);
            log("converted %s: %d questions (%d contaminated left out) to %s", options.data(), s.written(),
                    s.contaminated(), file);
        }
        ReplayDataset data = ReplayDataset.load(file, List.of(options.weakModel(), options.strongModel()));
        new ReplayBenchmark(new Options(options.root(), file, options.data(), options.database(),
                options.concurrency(), options.limit(), options.routeTargets(), options.systemPoints(),
                options.weakModel(), options.strongModel(), options.weakInUsd(), options.weakOutUsd(),
                options.strongInUsd(), options.strongOutUsd(), options.auditPresets(), options.seed()), data).run();
    }

    private List<ReplayDataset.Question> limit(List<ReplayDataset.Question> qs) {
        return options.limit() > 0 && qs.size() > options.limit() ? qs.subList(0, options.limit()) : qs;
    }

    private void run() throws Exception {
        Instant started = Instant.now();
        List<ReplayDataset.Question> onboarding = limit(data.onboarding);
        List<ReplayDataset.Question> selection = limit(data.selection);
        List<ReplayDataset.Question> eval = limit(data.evaluation);
        log("data: %s, %d prompts with responses of %s and %s; onboarding %d, selection %d, evaluation %d "
                        + "(used: %d / %d / %d)", data.file, data.total(), options.weakModel(), options.strongModel(),
                data.onboarding.size(), data.selection.size(), data.evaluation.size(), onboarding.size(),
                selection.size(), eval.size());
        report.put("file", data.file.toString());
        report.put("rule", RULE);
        report.put("questions", Map.of("onboarding", onboarding.size(), "selection", selection.size(),
                "evaluation", eval.size()));
        Path out = options.root().resolve("router-service/target/bench");
        Files.createDirectories(out);

        // 1. One stack, onboarded on the onboarding part. Dispatches are never reviewed, so the router learns
        //    nothing more: the baselines and every setting of routing alone and routing + cascade are measured on
        //    the selection part, the settings chosen by RULE, and then only the baselines, the chosen settings and
        //    the other settings of the selection frontier (for the curve) run on the evaluation split.
        SystemPoint first = options.systemPoints().isEmpty() ? new SystemPoint(0, 0, "lenient")
                : options.systemPoints().getFirst();
        try (BenchStack stack = BenchStack.start(options.root(), workerConfig(), options.database(),
                routerConfig(first.routeTarget(), first.cascadeThreshold()), audit(first),
                out.resolve("logs/routing"))) {
            warmUp(stack, onboarding, first.routeTarget());
            baselines(stack, "selection", selection);
            Map<String, List<Point>> swept = new LinkedHashMap<>();
            for (String system : List.of(ROUTING, CASCADE)) {
                for (double target : options.routeTargets()) {
                    swept.computeIfAbsent(system, k -> new ArrayList<>())
                            .add(routed(stack, "selection", system, target, selection));
                }
            }
            Map<String, List<Double>> frontier = new LinkedHashMap<>();
            Map<String, Double> chosen = new LinkedHashMap<>();
            for (var e : swept.entrySet()) {
                Baselines b = baselines.get("selection");
                Point pick = choose(e.getValue(), 0.95 * b.strongAccuracy());
                for (Point p : e.getValue()) {
                    points.add(p.chosen(p == pick));
                }
                chosen.put(e.getKey(), target(pick));
                frontier.put(e.getKey(), frontier(e.getValue()).stream().map(ReplayBenchmark::target).toList());
                log("  %s: chose %s on the selection split (%.1f %% at %.1f %% of always-strong's cost); frontier "
                        + "%s", e.getKey(), pick.setting(), 100 * pick.accuracy(), 100 * pick.costShare(),
                        frontier.get(e.getKey()));
            }
            report.put("chosen_on_selection", new LinkedHashMap<>(chosen));
            report.put("frontier_on_selection", frontier);
            baselines(stack, "evaluation", eval);
            for (String system : List.of(ROUTING, CASCADE)) {
                for (double target : frontier.get(system)) {
                    Point p = routed(stack, "evaluation", system, target, eval);
                    points.add(p.chosen(target == chosen.get(system)));
                }
            }
        }

        summarise(out, started); // written again at the end: a run cut short keeps its routing results

        // 2. The whole system (routing + cascade + audit + review) per setting, each on a fresh stack onboarded on
        //    the onboarding part, learning on (the reviews it pays for are in its cost): every setting on the
        //    selection part, then the one chosen by RULE on a fresh stack on the evaluation split.
        List<Point> systemPoints = new ArrayList<>();
        for (SystemPoint setting : options.systemPoints()) {
            systemPoints.add(whole(setting, "selection", onboarding, selection, out));
        }
        if (!systemPoints.isEmpty()) {
            Point pick = choose(systemPoints, 0.95 * baselines.get("selection").strongAccuracy());
            SystemPoint setting = options.systemPoints().get(systemPoints.indexOf(pick));
            for (Point p : systemPoints) {
                points.add(p.chosen(p == pick));
            }
            log("  %s: chose %s on the selection split", SYSTEM, setting.label());
            report.put("chosen_system_on_selection", setting.label());
            points.add(whole(setting, "evaluation", onboarding, eval, out).chosen(true));
        }
        summarise(out, started);
    }

    /** The always-weak and always-strong baselines of a split, and random routing between them. */
    private void baselines(BenchStack stack, String split, List<ReplayDataset.Question> qs) throws Exception {
        List<Outcome> w = runAll("always-weak (" + split + ")", qs, q -> dispatch(stack, q, d -> d
                .addExcludeModels(strong).setCascade(CascadeMode.CASCADE_MODE_OFF)));
        List<Outcome> s = runAll("always-strong (" + split + ")", qs, q -> dispatch(stack, q, d -> d
                .setRequirements(StepRequirements.newBuilder().setMinTier(Tier.TIER_ORACLE))
                .setCascade(CascadeMode.CASCADE_MODE_OFF)));
        Baselines b = new Baselines(total(w), total(s), accuracy(w), accuracy(s));
        baselines.put(split, b);
        points.add(point(split, "always-weak (" + options.weakModel() + ")", "", w, b));
        points.add(point(split, "always-strong (" + options.strongModel() + ")", "", s, b));
        randomBaseline(split, qs, w, s);
    }

    /** Routing alone (cascade off) or routing + cascade at one quality target, on one split. */
    private Point routed(BenchStack stack, String split, String system, double target,
                         List<ReplayDataset.Question> qs) throws Exception {
        stack.router.put("/api/policy/" + WORKER_TYPE, "{\"quality-target\": " + target + "}");
        CascadeMode mode = system.equals(ROUTING) ? CascadeMode.CASCADE_MODE_OFF : CascadeMode.CASCADE_MODE_ON;
        List<Outcome> outcomes = runAll(system + ", target " + target + " (" + split + ")", qs,
                q -> dispatch(stack, q, d -> d.setCascade(mode)));
        return point(split, system, "quality target " + target, outcomes, baselines.get(split));
    }

    /** The whole system at one setting on a fresh stack: onboarding, then one split through OracleService. */
    private Point whole(SystemPoint setting, String split, List<ReplayDataset.Question> onboarding,
                        List<ReplayDataset.Question> qs, Path out) throws Exception {
        String label = setting.routeTarget() + "-" + setting.cascadeThreshold() + "-" + setting.auditPreset();
        try (BenchStack stack = BenchStack.start(options.root(), workerConfig(), options.database(),
                routerConfig(setting.routeTarget(), setting.cascadeThreshold()), audit(setting),
                out.resolve("logs/system-" + split + "-" + label))) {
            warmUp(stack, onboarding, setting.routeTarget());
            double before = stack.settledSpendUsd();
            List<Outcome> outcomes = runAll("routing+cascade+audit " + label + " (" + split + ")", qs,
                    q -> execute(stack, q));
            double spent = stack.settledSpendUsd() - before;
            Baselines b = baselines.get(split);
            log("  router meter: $%.4f for the %s split (sum of task costs, planning included, $%.4f)", spent, split,
                    total(outcomes));
            // the stack's own meter (shadow reviews included) is the cost, not the sum of per-task answers
            return point(split, SYSTEM, setting.label(), outcomes, b).costed(spent, b.strongCost());
        }
    }

    /** {@link #RULE}: the cheapest point at the goal, else the most accurate (ties: the cheaper). */
    static Point choose(List<Point> candidates, double goal) {
        return candidates.stream().filter(p -> p.accuracy() >= goal).min(Comparator.comparingDouble(Point::costUsd))
                .orElseGet(() -> candidates.stream().max(Comparator.comparingDouble(Point::accuracy)
                        .thenComparing(Comparator.comparingDouble(Point::costUsd).reversed())).orElseThrow());
    }

    /** The points no other point beats on both cost and accuracy (the frontier), cheapest first. */
    static List<Point> frontier(List<Point> candidates) {
        List<Point> sorted = new ArrayList<>(candidates);
        sorted.sort(Comparator.comparingDouble(Point::costUsd)
                .thenComparing(Comparator.comparingDouble(Point::accuracy).reversed()));
        List<Point> out = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (Point p : sorted) {
            if (p.accuracy() > best) {
                out.add(p);
                best = p.accuracy();
            }
        }
        return out;
    }

    private static double target(Point p) {
        return Double.parseDouble(p.setting().substring("quality target ".length()));
    }

    /** The worker's replay models over the file: the two compared models. */
    private Map<String, String> workerConfig() {
        Map<String, String> w = new LinkedHashMap<>();
        for (String model : List.of(options.weakModel(), options.strongModel())) {
            String p = "tandem.models.\"" + replayId(model) + "\".";
            w.put(p + "provider", "replay");
            w.put(p + "replay.dataset", data.file.toString());
            w.put(p + "replay.model", model);
            w.put(p + "replay.key-input", "question");
            w.put(p + "capabilities", "generation");
        }
        return w;
    }

    /**
     * Onboarding of the cheap model on the onboarding part of the tuning split, the way an operator brings a new
     * model in: every question goes to the weak model first (quality target 0), the cascade sends what fails the
     * gates to the strong one, and every answer that passes is reviewed by the oracle model through the router's
     * Review (what the audit service's shadow reviewer calls, and what probation does), so the router learns from
     * the verdicts which questions the weak model gets right. The audit ledger is not involved: its streams start
     * in probation.
     */
    private void warmUp(BenchStack stack, List<ReplayDataset.Question> tune, double routeTarget) throws Exception {
        stack.router.put("/api/policy/" + WORKER_TYPE, "{\"quality-target\": 0}");
        double before = stack.settledSpendUsd();
        List<Outcome> outcomes = runAll("onboarding review (tuning split, onboarding part)", tune,
                q -> onboard(stack, q));
        double spent = stack.settledSpendUsd() - before;
        report.merge("warm_up_cost_usd", spent, (a, b) -> (double) a + (double) b);
        log("  onboarding: accuracy %.3f, $%.4f; router learned: %s", accuracy(outcomes), spent,
                stack.router.get("/api/prediction"));
        stack.router.put("/api/policy/" + WORKER_TYPE, "{\"quality-target\": " + routeTarget + "}");
    }

    private Outcome onboard(BenchStack stack, ReplayDataset.Question q) {
        String task = "onboard-" + Integer.toHexString(q.prompt().hashCode());
        DispatchResponse answer = stack.router().dispatch(DispatchRequest.newBuilder().setTaskId(task)
                .setStepId(WORKER_TYPE).setWorkerType(WORKER_TYPE).putInputs("question", q.prompt())
                .setCascade(CascadeMode.CASCADE_MODE_ON).build());
        String model = answer.getResult().getModelId();
        if (!model.equals(weak)) {
            return scored(q, answer.getResult().getOutput(), model, answer.getCostUsd(), true, false, false,
                    "cascaded");
        }
        ReviewResponse review = stack.router().review(ReviewRequest.newBuilder().setTaskId(task)
                .setStepId(WORKER_TYPE).setWorkerType(WORKER_TYPE).putInputs("question", q.prompt())
                .setCandidateOutput(answer.getResult().getOutput()).setCandidateModelId(weak).build());
        boolean accepted = review.getReview().getVerdict() == ReviewVerdict.REVIEW_VERDICT_ACCEPTED;
        // a rejected answer is replaced by the oracle model's own: the strong model's recorded response
        ReplayDataset.Recorded returned = q.of(accepted ? options.weakModel() : options.strongModel());
        return new Outcome(q.prompt(), accepted ? weak : strong, returned.correct(),
                returned.comparisonLabel().orElse(returned.correct()), answer.getCostUsd() + review.getCostUsd(),
                false, true, !accepted, null, accepted ? "accepted" : "rejected");
    }

    private Map<String, String> audit(SystemPoint point) {
        Map<String, String> preset = options.auditPresets().get(point.auditPreset());
        if (preset == null) {
            throw new IllegalArgumentException("unknown audit preset " + point.auditPreset() + "; known: "
                    + options.auditPresets().keySet());
        }
        return preset;
    }

    private Map<String, String> routerConfig(double routeTarget, double cascadeThreshold) {
        Map<String, String> r = new LinkedHashMap<>();
        model(r, weak, "SMALL", options.weakInUsd(), options.weakOutUsd(), "0.85");
        model(r, strong, "ORACLE", options.strongInUsd(), options.strongOutUsd(), "0.95");
        r.put("tandem.router.pools.local.models", weak + "," + strong);
        r.put("tandem.router.pools.local.capacity", "64");
        r.put("tandem.router.oracle-model", strong);
        r.put("tandem.router.quality-target.\"solve\"", String.valueOf(routeTarget));
        r.put("tandem.router.cascade.confidence-threshold.\"solve\"", String.valueOf(cascadeThreshold));
        r.put("tandem.router.prediction.worker-types", WORKER_TYPE);
        r.put("tandem.router.estimates.output-tokens.\"solve\"", "200");
        r.put("tandem.router.audit.poll-interval", "2s");
        r.put("tandem.router.dispatch.attempt-timeout", "60s");
        return r;
    }

    private static void model(Map<String, String> r, String id, String tier, double in, double out, String prior) {
        String p = "tandem.router.models.\"" + id + "\".";
        r.put(p + "tier", tier);
        r.put(p + "input-usd-per-mtok", String.valueOf(in));
        r.put(p + "output-usd-per-mtok", String.valueOf(out));
        r.put(p + "capabilities", "generation");
        r.put(p + "worker-types", WORKER_TYPE);
        r.put(p + "context-tokens", "32000");
        r.put(p + "prior-quality", prior);
    }

    private Outcome dispatch(BenchStack stack, ReplayDataset.Question q,
                             Function<DispatchRequest.Builder, DispatchRequest.Builder> shape) {
        DispatchResponse r = stack.router().dispatch(shape.apply(DispatchRequest.newBuilder()
                .setTaskId("bench-" + run + "-" + Integer.toHexString(q.prompt().hashCode())).setStepId(WORKER_TYPE)
                .setWorkerType(WORKER_TYPE).putInputs("question", q.prompt())).build());
        String model = r.getResult().getModelId();
        boolean cascaded = r.getAttemptsList().stream().anyMatch(a -> a.getOutcome()
                == AttemptOutcome.ATTEMPT_OUTCOME_LOW_CONFIDENCE
                || a.getOutcome() == AttemptOutcome.ATTEMPT_OUTCOME_VALIDATION_FAILED);
        String detail = "validation " + (r.getResult().getValidation().getPassed() ? "passed" : "failed");
        return scored(q, r.getResult().getOutput(), model, r.getCostUsd(), cascaded, false, false, detail);
    }

    private Outcome execute(BenchStack stack, ReplayDataset.Question q) {
        ExecuteResponse r = stack.oracle().execute(ExecuteRequest.newBuilder().setTask("Solve this math word problem")
                .setPipeline("math-word-problem").putInputs("question", q.prompt()).build());
        StepResult step = r.getSteps(0);
        String model = step.getExecutedBy().contains("@")
                ? step.getExecutedBy().substring(0, step.getExecutedBy().indexOf('@')) : step.getExecutedBy();
        boolean cascaded = step.getFailedAttemptsList().stream().anyMatch(f -> f.contains("low_confidence")
                || f.contains("validation_failed"));
        String detail = "audit " + step.getAudit().getDecision() + " (" + step.getAudit().getReason() + ", "
                + step.getAudit().getTrustState() + ")";
        return scored(q, step.getOutput(), model, r.getCost().getActualUsd(), cascaded,
                step.getAudit().getDecision().equals("review"), step.getEscalated(), detail);
    }

    /**
     * The scorer: the output the system released (the step's accepted output, whoever produced it) is found among
     * the prompt's recorded responses by its text, not by the model the system names, and scored by that response's
     * {@code correct} (for GSM8K: its final number against the reference of test.jsonl, see {@link Gsm8kConverter});
     * its comparison label (RouteLLM's) is kept beside the score. A released text that is no recorded response
     * scores wrong and is counted as an error.
     */
    private Outcome scored(ReplayDataset.Question q, String outputJson, String model, double cost, boolean cascaded,
                           boolean reviewed, boolean escalated, String detail) {
        JsonNode output;
        try {
            output = JSON.readTree(outputJson);
        } catch (Exception e) {
            output = JSON.createObjectNode();
        }
        String text = output.path("reasoning").asText("");
        String named = model.equals(weak) ? options.weakModel() : model.equals(strong) ? options.strongModel() : model;
        var recorded = q.modelOf(text, named);
        if (recorded.isEmpty()) {
            return new Outcome(q.prompt(), model, false, false, cost, cascaded, reviewed, escalated,
                    "released output is no recorded response: " + abbreviate(outputJson), detail);
        }
        ReplayDataset.Recorded r = q.of(recorded.get());
        String id = recorded.get().equals(options.weakModel()) ? weak
                : recorded.get().equals(options.strongModel()) ? strong : recorded.get();
        return new Outcome(q.prompt(), id, r.correct(), r.comparisonLabel().orElse(r.correct()), cost, cascaded,
                reviewed, escalated, null, detail);
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }

    private List<Outcome> runAll(String what, List<ReplayDataset.Question> qs,
                                 Function<ReplayDataset.Question, Outcome> one) throws Exception {
        run++;
        log("%s: %d questions, %d at a time", what, qs.size(), options.concurrency());
        long start = System.nanoTime();
        Semaphore slots = new Semaphore(options.concurrency());
        AtomicInteger done = new AtomicInteger();
        AtomicInteger right = new AtomicInteger();
        List<Future<Outcome>> futures = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (ReplayDataset.Question q : qs) {
                slots.acquire();
                futures.add(threads.submit(() -> {
                    try {
                        Outcome o;
                        try {
                            o = one.apply(q);
                        } catch (RuntimeException e) {
                            o = new Outcome(q.prompt(), "", false, false, 0, false, false, false, e.toString(),
                                    "error");
                        }
                        int n = done.incrementAndGet();
                        if (o.correct()) {
                            right.incrementAndGet();
                        }
                        if (n % 100 == 0) {
                            log("  %s: %d/%d, accuracy so far %.3f", what, n, qs.size(), right.get() / (double) n);
                        }
                        return o;
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
        log("  %s: accuracy %.3f, cost $%.4f, %d errors, %.1f s", what, accuracy(outcomes), total(outcomes), errors,
                (System.nanoTime() - start) / 1e9);
        outcomes.stream().filter(o -> o.error() != null).limit(3).forEach(o -> log("    error: %s", o.error()));
        Map<String, Long> details = new java.util.TreeMap<>();
        for (Outcome o : outcomes) {
            details.merge(o.finalModel() + ": " + o.detail(), 1L, Long::sum);
        }
        log("  %s: %s", what, details);
        return outcomes;
    }

    /** Random routing at matched cost: each question goes to the strong model with the probability that matches a cost. */
    private void randomBaseline(String split, List<ReplayDataset.Question> qs, List<Outcome> weakRun,
                                List<Outcome> strongRun) {
        report.put("random_routing_note", "expected accuracy of sending each question to the strong model with "
                + "probability p and to the weak one otherwise, p chosen so the expected cost equals the compared "
                + "point's cost; seeded draws over the two baseline runs' per-question results agree within sampling "
                + "error");
        SplittableRandom random = new SplittableRandom(options.seed());
        Map<Double, Double> sampled = new LinkedHashMap<>();
        for (double p = 0.1; p < 0.95; p += 0.1) {
            int right = 0;
            for (int i = 0; i < qs.size(); i++) {
                right += (random.nextDouble() < p ? strongRun.get(i) : weakRun.get(i)).correct() ? 1 : 0;
            }
            sampled.put(Math.round(p * 10) / 10.0, right / (double) qs.size());
        }
        report.put("random_routing_sampled_accuracy_by_strong_share_" + split, sampled);
    }

    private Point point(String split, String system, String setting, List<Outcome> outcomes, Baselines b) {
        double cost = total(outcomes);
        double strongCost = b == null ? cost : b.strongCost();
        long strongAnswers = outcomes.stream().filter(o -> o.finalModel().equals(strong)).count();
        return new Point(split, system, setting, outcomes.size(), accuracy(outcomes), labelAccuracy(outcomes), cost,
                strongCost > 0 ? cost / strongCost : 1, strongAnswers / (double) Math.max(1, outcomes.size()),
                (int) outcomes.stream().filter(Outcome::cascaded).count(),
                (int) outcomes.stream().filter(Outcome::reviewed).count(),
                (int) outcomes.stream().filter(Outcome::escalated).count(),
                (int) outcomes.stream().filter(o -> o.error() != null).count(), false);
    }

    private static double total(List<Outcome> outcomes) {
        return outcomes.stream().mapToDouble(Outcome::costUsd).sum();
    }

    private static double accuracy(List<Outcome> outcomes) {
        return outcomes.isEmpty() ? 0 : outcomes.stream().filter(Outcome::correct).count() / (double) outcomes.size();
    }

    private static double labelAccuracy(List<Outcome> outcomes) {
        return outcomes.isEmpty() ? 0
                : outcomes.stream().filter(Outcome::labelCorrect).count() / (double) outcomes.size();
    }

    /**
     * Mean accuracy of a curve over cost share, from the always-weak point to the always-strong one, joined to the
     * two baselines. With {@code envelope} the curve runs through the best accuracy measured at or below each cost
     * (choosing the best setting per budget: allowed on the selection split only); without it the points are joined
     * as measured, which is how the evaluation split's curve of settings fixed on the selection split is drawn. One
     * system's settings per curve: joining two systems' points as measured would zig-zag between them.
     */
    static double area(List<Point> curve, Baselines b, boolean envelope) {
        List<double[]> xy = new ArrayList<>();
        xy.add(new double[] {b.weakCost() / b.strongCost(), b.weakAccuracy()});
        for (Point p : curve) {
            xy.add(new double[] {p.costShare(), p.accuracy()});
        }
        xy.add(new double[] {1, b.strongAccuracy()});
        xy.sort((x, y) -> Double.compare(x[0], y[0]));
        List<double[]> line = new ArrayList<>();
        double best = -1;
        for (double[] p : xy) {
            if (p[0] > 1) {
                continue;
            }
            best = envelope ? Math.max(best, p[1]) : p[1];
            line.add(new double[] {p[0], best});
        }
        double area = 0;
        for (int i = 1; i < line.size(); i++) {
            double[] x = line.get(i - 1);
            double[] y = line.get(i);
            area += (y[0] - x[0]) * (x[1] + y[1]) / 2;
        }
        double width = 1 - b.weakCost() / b.strongCost();
        return width > 0 ? area / width : 0;
    }

    private List<Point> of(String split, String system) {
        return points.stream().filter(p -> p.split().equals(split) && p.system().equals(system)).toList();
    }

    private void summarise(Path out, Instant started) throws Exception {
        report.put("started", started.toString());
        report.put("duration_s", Duration.between(started, Instant.now()).toSeconds());
        report.put("prices_usd_per_mtok", Map.of(weak, List.of(options.weakInUsd(), options.weakOutUsd()),
                strong, List.of(options.strongInUsd(), options.strongOutUsd())));
        report.put("audit_presets", options.auditPresets());
        report.put("baselines", baselines);
        report.put("points", points);
        StringBuilder md = new StringBuilder();
        for (String split : List.of("selection", "evaluation")) {
            Baselines b = baselines.get(split);
            if (b == null) {
                continue;
            }
            double goal = 0.95 * b.strongAccuracy();
            Map<String, Object> areas = new LinkedHashMap<>();
            areas.put("random", (b.weakAccuracy() + b.strongAccuracy()) / 2);
            boolean envelope = split.equals("selection");
            for (String system : List.of(ROUTING, CASCADE, SYSTEM)) {
                List<Point> curve = of(split, system);
                if (!curve.isEmpty()) {
                    areas.put(system, area(curve, b, envelope));
                }
            }
            report.put("auc_" + split, areas);
            report.put("goal_accuracy_" + split, goal);

            md.append(String.format(Locale.ROOT, "%n%s split (%s questions)%n%n", split,
                    points.stream().filter(p -> p.split().equals(split)).findFirst().map(Point::questions)
                            .orElse(0)));
            md.append("| system | setting | chosen | accuracy | comparison labels | cost (USD) | cost vs all-strong "
                    + "| random at that cost | answers from strong | cascaded | reviewed | escalated | errors |\n"
                    + "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (Point p : points) {
                if (!p.split().equals(split)) {
                    continue;
                }
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.1f %% | %.1f %% | %.4f | %.1f %% | %.1f %% "
                                + "| %.1f %% | %d | %d | %d | %d |%n", p.system(), p.setting(), p.chosen() ? "yes" : "",
                        100 * p.accuracy(), 100 * p.labelAccuracy(), p.costUsd(), 100 * p.costShare(),
                        100 * b.randomAccuracyAtCost(p.costUsd()), 100 * p.strongShare(), p.cascaded(),
                        p.reviewed(), p.escalated(), p.errors()));
            }
            md.append(String.format(Locale.ROOT, "%nArea under the cost-quality curve (%s; mean accuracy over cost "
                    + "shares %.1f-100 %%): %s.%nGoal on this split: %.1f %% (95 %% of always-strong's %.1f %%).%n",
                    envelope ? "upper envelope of every setting" : "settings fixed on the selection split, as measured",
                    100 * b.weakCost() / b.strongCost(), areas.entrySet().stream().map(e -> String.format(
                            Locale.ROOT, "%s %.3f", e.getKey(), (double) e.getValue())).toList(),
                    100 * goal, 100 * b.strongAccuracy()));
        }
        md.append(String.format(Locale.ROOT, "%nSettings chosen on the selection split by: %s.%n", RULE));
        md.append(String.format(Locale.ROOT, "Warm-up (onboarding on the tuning split's onboarding part, every "
                        + "stack): $%.4f in all.%n",
                ((Number) report.getOrDefault("warm_up_cost_usd", 0d)).doubleValue()));
        String stamp = started.toString().replace(':', '-');
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(out.resolve("replay-" + stamp + ".json").toFile(), report);
        Files.writeString(out.resolve("replay-" + stamp + ".md"), md.toString(), StandardCharsets.UTF_8);
        System.out.println();
        System.out.println(md);
        log("results: %s", out.resolve("replay-" + stamp + ".{json,md}"));
    }

    static void log(String format, Object... args) {
        System.out.println(Instant.now().toString().substring(11, 19) + " " + String.format(Locale.ROOT, format, args));
    }
}
