package dev.tandem.system.bench;

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

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import dev.tandem.system.bench.ReplayServices.Outcome;

/**
 * The replay benchmark (issue 4 item 8, issue 17), through the real services: oracle, router, worker (replay of
 * recorded answers from a JSONL replay file; by default the shared RouteLLM GSM8K data converted by
 * {@link Gsm8kConverter}) and audit as separate processes. The scorer here ({@link ReplayDataset}) is the only reader
 * of {@code correct}. Settings are measured and chosen on the tuning split's selection part by {@link #RULE}, then
 * only the chosen ones (and, for the curve, those on the selection split's cost-quality frontier) run on the
 * evaluation split. This is routing alone and routing + cascade ({@code Dispatch}, nothing reviewed); the whole
 * system with the audit, learning online, is {@link StreamBenchmark}. See docs/benchmarks.md ("Routing: GSM8K
 * replay") for the method; run with {@code bin/bench-routing [FILE]}.
 */
public final class ReplayBenchmark {


    /** How a setting is chosen on the selection split, before the evaluation split is run. */
    static final String RULE = "per system, the cheapest setting whose accuracy on the selection split is at least "
            + "95 % of always-strong's accuracy there; when none reaches it, the most accurate (ties: the cheaper)";

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

    private final Options options;
    private final ReplayDataset data;
    private final ReplayServices services;
    private final String weak;
    private final String strong;
    private final List<Point> points = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Object> report = new LinkedHashMap<>();
    private final Map<String, Baselines> baselines = new LinkedHashMap<>();
    private volatile int run;

    /** Command-line options (see bin/bench-routing). */
    record Options(Path root, Path file, Path data, String database, int concurrency, int limit,
                   List<Double> routeTargets, String weakModel, String strongModel,
                   double weakInUsd, double weakOutUsd, double strongInUsd, double strongOutUsd, long seed,
                   String workerType) {

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
            String weakModel = Gsm8kConverter.MODELS.get(0);
            String strongModel = Gsm8kConverter.MODELS.get(1);
            double[] weakPrice = {0.60, 0.60};
            double[] strongPrice = {10.0, 30.0};
            String workerType = ReplayServices.DEFAULT_WORKER_TYPE;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--file" -> file = Path.of(args[++i]).toAbsolutePath();
                    case "--data" -> data = Path.of(args[++i]).toAbsolutePath();
                    case "--db" -> db = args[++i];
                    case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
                    case "--limit" -> limit = Integer.parseInt(args[++i]);
                    case "--route-targets" -> targets = doubles(args[++i]);
                    case "--system-points", "--audit" -> throw new IllegalArgumentException(a + " is gone: the "
                            + "whole system (routing + cascade + audit) is measured by 'bin/bench-routing stream', one "
                            + "production stream per value of the audit's target A (--targets)");
                    case "--weak" -> weakModel = args[++i];
                    case "--worker-type" -> workerType = ReplayServices.workerType(args[++i]);
                    case "--strong" -> strongModel = args[++i];
                    case "--weak-price" -> weakPrice = prices(args[++i]);
                    case "--strong-price" -> strongPrice = prices(args[++i]);
                    default -> {
                        if (a.startsWith("--") || file != null) {
                            throw new IllegalArgumentException("unknown option " + a);
                        }
                        file = Path.of(a).toAbsolutePath();
                    }
                }
            }
            return new Options(root, file, data, db, concurrency, limit, targets, weakModel, strongModel,
                    weakPrice[0], weakPrice[1], strongPrice[0], strongPrice[1], 42, workerType);
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
    }

    private ReplayBenchmark(Options options, ReplayDataset data) {
        this.options = options;
        this.data = data;
        this.services = new ReplayServices(data, options.workerType(), options.weakModel(), options.strongModel(),
                new double[] {options.weakInUsd(), options.weakOutUsd()},
                new double[] {options.strongInUsd(), options.strongOutUsd()});
        this.weak = services.weak;
        this.strong = services.strong;
    }

    static String replayId(String model) {
        return ReplayServices.replayId(model);
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
            file = options.root().resolve("system-tests/target/bench/gsm8k.jsonl");
            Gsm8kConverter.Summary s = Gsm8kConverter.convert(options.data(), file);
            log("converted %s: %d questions (%d contaminated left out) to %s", options.data(), s.written(),
                    s.contaminated(), file);
        }
        ReplayDataset data = ReplayDataset.load(file, List.of(options.weakModel(), options.strongModel()));
        new ReplayBenchmark(new Options(options.root(), file, options.data(), options.database(),
                options.concurrency(), options.limit(), options.routeTargets(),
                options.weakModel(), options.strongModel(), options.weakInUsd(), options.weakOutUsd(),
                options.strongInUsd(), options.strongOutUsd(), options.seed(), options.workerType()), data).run();
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
        Path out = options.root().resolve("system-tests/target/bench");
        Files.createDirectories(out);

        // 1. One stack, onboarded on the onboarding part. Dispatches are never reviewed, so the router learns
        //    nothing more: the baselines and every setting of routing alone and routing + cascade are measured on
        //    the selection part, the settings chosen by RULE, and then only the baselines, the chosen settings and
        //    the other settings of the selection frontier (for the curve) run on the evaluation split.
        // The router is not connected to the audit service: no dispatch here is ever decided on or reviewed by it,
        // so its streams would look new (in probation) forever and every worker would be priced with a review.
        try (BenchStack stack = BenchStack.start(services.workerConfig(), options.database(),
                services.routerConfig(0, 0), Map.of(), out.resolve("logs/routing"), false)) {
            warmUp(stack, onboarding, 0);
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

        // The whole system (routing + cascade + audit) is measured by StreamBenchmark: one production stream per
        // value of the audit's target A, learning online, every review, escalation and exploration paid.
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
        stack.router.put("/api/policy/" + services.workerType, "{\"quality-target\": " + target + "}");
        CascadeMode mode = system.equals(ROUTING) ? CascadeMode.CASCADE_MODE_OFF : CascadeMode.CASCADE_MODE_ON;
        List<Outcome> outcomes = runAll(system + ", target " + target + " (" + split + ")", qs,
                q -> dispatch(stack, q, d -> d.setCascade(mode)));
        return point(split, system, "quality target " + target, outcomes, baselines.get(split));
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

    /**
     * Onboarding of the cheap model on the onboarding part of the tuning split, the way an operator brings a new
     * model in: every question goes to the weak model first (quality target 0), the cascade sends what fails the
     * gates to the strong one, and every answer that passes is reviewed by the oracle model through the router's
     * Review (what the audit service's shadow reviewer calls, and what probation does), so the router learns from
     * the verdicts which questions the weak model gets right. The audit ledger is not involved: its streams start
     * in probation.
     */
    private void warmUp(BenchStack stack, List<ReplayDataset.Question> tune, double routeTarget) throws Exception {
        stack.router.put("/api/policy/" + services.workerType, "{\"quality-target\": 0}");
        double before = stack.settledSpendUsd();
        List<Outcome> outcomes = runAll("onboarding review (tuning split, onboarding part)", tune,
                q -> onboard(stack, q));
        double spent = stack.settledSpendUsd() - before;
        report.merge("warm_up_cost_usd", spent, (a, b) -> (double) a + (double) b);
        log("  onboarding: accuracy %.3f, $%.4f; router learned: %s", accuracy(outcomes), spent,
                stack.router.get("/api/prediction"));
        stack.router.put("/api/policy/" + services.workerType, "{\"quality-target\": " + routeTarget + "}");
    }

    private Outcome onboard(BenchStack stack, ReplayDataset.Question q) {
        String task = "onboard-" + Integer.toHexString(q.prompt().hashCode());
        DispatchResponse answer = stack.router().dispatch(DispatchRequest.newBuilder().setTaskId(task)
                .setStepId(services.workerType).setWorkerType(services.workerType).putInputs("question", q.prompt())
                .setCascade(CascadeMode.CASCADE_MODE_ON).build());
        String model = answer.getResult().getModelId();
        if (!model.equals(weak)) {
            return services.scored(q, answer.getResult().getOutput(), model, answer.getCostUsd(), true, false, false,
                    "cascaded");
        }
        ReviewResponse review = stack.router().review(ReviewRequest.newBuilder().setTaskId(task)
                .setStepId(services.workerType).setWorkerType(services.workerType).putInputs("question", q.prompt())
                .setCandidateOutput(answer.getResult().getOutput()).setCandidateModelId(weak).build());
        boolean accepted = review.getReview().getVerdict() == ReviewVerdict.REVIEW_VERDICT_ACCEPTED;
        // a rejected answer is replaced by the oracle model's own: the strong model's recorded response
        ReplayDataset.Recorded returned = q.of(accepted ? options.weakModel() : options.strongModel());
        return new Outcome(q.prompt(), accepted ? weak : strong, returned.correct(),
                returned.comparisonLabel().orElse(returned.correct()), answer.getCostUsd() + review.getCostUsd(),
                false, true, !accepted, null, accepted ? "accepted" : "rejected");
    }

    private Outcome dispatch(BenchStack stack, ReplayDataset.Question q,
                             Function<DispatchRequest.Builder, DispatchRequest.Builder> shape) {
        DispatchResponse r = stack.router().dispatch(shape.apply(DispatchRequest.newBuilder()
                .setTaskId("bench-" + run + "-" + Integer.toHexString(q.prompt().hashCode())).setStepId(services.workerType)
                .setWorkerType(services.workerType).putInputs("question", q.prompt())).build());
        String model = r.getResult().getModelId();
        boolean cascaded = r.getAttemptsList().stream().anyMatch(a -> a.getOutcome()
                == AttemptOutcome.ATTEMPT_OUTCOME_LOW_CONFIDENCE
                || a.getOutcome() == AttemptOutcome.ATTEMPT_OUTCOME_VALIDATION_FAILED);
        String detail = "validation " + (r.getResult().getValidation().getPassed() ? "passed" : "failed");
        return services.scored(q, r.getResult().getOutput(), model, r.getCostUsd(), cascaded, false, false, detail);
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
            for (String system : List.of(ROUTING, CASCADE)) {
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
