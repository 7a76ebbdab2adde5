package dev.tandem.router.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
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
 * The GSM8K replay benchmark (issue 4 item 8), through the real services: oracle, router, worker (replay of the
 * recorded Mixtral-8x7B and GPT-4 answers) and audit as separate processes. The scorer here is the only reader of
 * the correctness labels. See docs/benchmarks.md ("Routing: GSM8K replay") for the method; run with
 * {@code bin/bench-routing}.
 */
public final class ReplayBenchmark {

    static final String WEAK = "replay-mixtral-8x7b";
    static final String STRONG = "replay-gpt-4-1106";

    /** One question's result: which model's recorded answer was returned, and what everything it took cost. */
    record Outcome(String prompt, String finalModel, boolean correct, double costUsd, boolean cascaded,
                   boolean reviewed, boolean escalated, String error, String detail) {
    }

    /** One point of the cost-quality plane. */
    record Point(String system, String setting, int questions, double accuracy, double costUsd, double costShare,
                 double strongShare, int cascaded, int reviewed, int escalated, int errors) {
    }

    private final Options options;
    private final ReplayDataset data;
    private final List<Point> points = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Object> report = new LinkedHashMap<>();
    private volatile int run;
    private double strongCost;
    private double weakCost;
    private double weakAccuracy;
    private double strongAccuracy;

    /** Command-line options (see bin/bench-routing). */
    /** A setting of the whole system: quality target, cascade threshold and audit preset. */
    record SystemPoint(double routeTarget, double cascadeThreshold, String auditPreset) {
    }

    record Options(Path root, Path data, String database, int concurrency, int limit, List<Double> routeTargets,
                   List<SystemPoint> systemPoints, double weakInUsd, double weakOutUsd, double strongInUsd,
                   double strongOutUsd, Map<String, Map<String, String>> auditPresets, long seed) {

        static Options parse(String[] args) {
            Path root = Path.of(System.getProperty("tandem.root", "..")).toAbsolutePath().normalize();
            String dataEnv = System.getenv("TANDEM_REPLAY_DATA");
            Path data = dataEnv != null ? Path.of(dataEnv)
                    : root.resolveSibling("shared").resolve("data/routellm-gsm8k");
            String db = System.getenv().getOrDefault("TANDEM_BENCH_DB", "tandem_bench");
            int concurrency = 4;
            int limit = 0;
            List<Double> targets = List.of(0.0, 0.6, 0.65, 0.68, 0.7, 0.72, 0.75);
            List<SystemPoint> systems = List.of(new SystemPoint(0.0, 0, "lenient"),
                    new SystemPoint(0.65, 0, "lenient"), new SystemPoint(0.7, 0, "lenient"),
                    new SystemPoint(0.0, 0, "strict"));
            Map<String, Map<String, String>> audit = defaultAuditPresets();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--data" -> data = Path.of(args[++i]).toAbsolutePath();
                    case "--db" -> db = args[++i];
                    case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
                    case "--limit" -> limit = Integer.parseInt(args[++i]);
                    case "--route-targets" -> targets = doubles(args[++i]);
                    case "--system-points" -> systems = pairs(args[++i]);
                    case "--audit" -> {
                        // preset.key=value, e.g. lenient.tandem.audit.sampling.normal-rate=0.05
                        String[] kv = args[++i].split("=", 2);
                        int dot = kv[0].indexOf('.');
                        audit.computeIfAbsent(kv[0].substring(0, dot), k -> new LinkedHashMap<>())
                                .put(kv[0].substring(dot + 1), kv[1]);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            return new Options(root, data, db, concurrency, limit, targets, systems, 0.60, 0.60, 10.0, 30.0, audit,
                    42);
        }

        /**
         * Audit settings, two presets. "strict" keeps the audit service's own rules (a stream earns trust once its
         * error is shown under 2 %; 2 rejections in 5 tighten it): Mixtral's stream never earns trust, so every
         * answer of it is reviewed. "lenient" lets a stream earn trust once its error is shown under 45 %, tightens
         * on 16 rejections of the last 20 and samples 3 % of trusted outputs: Mixtral's answers that pass the gates
         * are still rejected by about one review in three, so any stricter bar reviews all of them, and the
         * accuracy goal (95 % of GPT-4's) leaves room for those errors only in the share Mixtral answers.
         */
        static Map<String, Map<String, String>> defaultAuditPresets() {
            Map<String, String> lenient = new LinkedHashMap<>();
            lenient.put("tandem.audit.trust.target-error-rate", "0.45");
            lenient.put("tandem.audit.trust.tighten-window", "20");
            lenient.put("tandem.audit.trust.tighten-rejections", "16");
            lenient.put("tandem.audit.trust.restore-after-clean-reviews", "20");
            lenient.put("tandem.audit.trust.suspend-error-rate", "0.60");
            lenient.put("tandem.audit.sampling.normal-rate", "0.03");
            lenient.put("tandem.audit.sampling.reduced-rate", "0.01");
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
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        if (!Files.isRegularFile(options.data().resolve("gsm8k_responses.csv"))) {
            System.out.println("bench-routing: skipped, the replay data is not at " + options.data()
                    + " (../shared/data/routellm-gsm8k beside the checkout; --data or TANDEM_REPLAY_DATA elsewhere)");
            return;
        }
        ReplayDataset data = ReplayDataset.load(options.data());
        new ReplayBenchmark(options, data).run();
    }

    private List<ReplayDataset.Question> limit(List<ReplayDataset.Question> qs) {
        return options.limit() > 0 && qs.size() > options.limit() ? qs.subList(0, options.limit()) : qs;
    }

    private void run() throws Exception {
        Instant started = Instant.now();
        List<ReplayDataset.Question> tune = limit(data.tuning);
        List<ReplayDataset.Question> eval = limit(data.evaluation);
        log("data: %d questions, %d contaminated excluded; tuning split %d, evaluation split %d (used: %d / %d)",
                data.total, data.contaminatedExcluded, data.tuning.size(), data.evaluation.size(), tune.size(),
                eval.size());
        Path out = options.root().resolve("router-service/target/bench");
        Files.createDirectories(out);

        // 1. One stack: warm up on the tuning split through the whole system, then the single-model baselines,
        //    Tandem's routing alone (cascade off) and routing + cascade (no audit) at every quality target, with
        //    learning frozen (nothing is reviewed, so the router learns nothing from the evaluation split).
        SystemPoint first = options.systemPoints().getFirst();
        try (BenchStack stack = BenchStack.start(options.root(), options.data(), options.database(),
                routerConfig(first.routeTarget(), first.cascadeThreshold()), audit(first),
                out.resolve("logs/routing"))) {
            warmUp(stack, tune, first.routeTarget());
            List<Outcome> weak = runAll("always-weak", eval, q -> dispatch(stack, q, d -> d
                    .addExcludeModels(STRONG).setCascade(CascadeMode.CASCADE_MODE_OFF)));
            List<Outcome> strong = runAll("always-strong", eval, q -> dispatch(stack, q, d -> d
                    .setRequirements(StepRequirements.newBuilder().setMinTier(Tier.TIER_ORACLE))
                    .setCascade(CascadeMode.CASCADE_MODE_OFF)));
            weakCost = total(weak);
            strongCost = total(strong);
            weakAccuracy = accuracy(weak);
            strongAccuracy = accuracy(strong);
            points.add(point("always-weak (Mixtral-8x7B)", "", weak));
            points.add(point("always-strong (GPT-4)", "", strong));
            randomBaseline(eval, weak, strong);
            for (double target : options.routeTargets()) {
                stack.router.put("/api/policy/solve", "{\"quality-target\": " + target + "}");
                List<Outcome> routed = runAll("routing alone, target " + target, eval, q -> dispatch(stack, q,
                        d -> d.setCascade(CascadeMode.CASCADE_MODE_OFF)));
                points.add(point("Tandem routing alone (prompt-knn)", "quality target " + target, routed));
            }
            for (double target : options.routeTargets()) {
                stack.router.put("/api/policy/solve", "{\"quality-target\": " + target + "}");
                List<Outcome> routed = runAll("routing + cascade, target " + target, eval, q -> dispatch(stack, q,
                        d -> d.setCascade(CascadeMode.CASCADE_MODE_ON)));
                points.add(point("Tandem routing + cascade", "quality target " + target + ", gates", routed));
            }
        }

        // 2. The whole system (routing + cascade + audit + review) per setting, each on a fresh stack: warm-up on
        //    the tuning split, then the evaluation split, learning on (the reviews it pays for are in its cost).
        for (SystemPoint setting : options.systemPoints()) {
            String label = setting.routeTarget() + "-" + setting.cascadeThreshold() + "-" + setting.auditPreset();
            try (BenchStack stack = BenchStack.start(options.root(), options.data(), options.database(),
                    routerConfig(setting.routeTarget(), setting.cascadeThreshold()), audit(setting),
                    out.resolve("logs/system-" + label))) {
                warmUp(stack, tune, setting.routeTarget());
                double before = stack.settledSpendUsd();
                List<Outcome> outcomes = runAll("routing+cascade+audit " + label, eval, q -> execute(stack, q));
                double spent = stack.settledSpendUsd() - before;
                Point p = point("Tandem routing + cascade + audit", String.format(Locale.ROOT,
                        "quality target %.2f, cascade threshold %.2f, audit %s", setting.routeTarget(),
                        setting.cascadeThreshold(), setting.auditPreset()), outcomes);
                // the stack's own meter (shadow reviews included) is the cost, not the sum of per-task answers
                points.add(new Point(p.system(), p.setting(), p.questions(), p.accuracy(), spent,
                        spent / strongCost, p.strongShare(), p.cascaded(), p.reviewed(), p.escalated(), p.errors()));
                log("  router meter: $%.4f for the evaluation split (sum of task costs, planning included, $%.4f)",
                        spent, total(outcomes));
            }
        }
        summarise(out, started);
    }

    /**
     * Onboarding of the cheap model on the tuning split, the way an operator brings a new model in: every question
     * goes to Mixtral first (quality target 0), the cascade sends what fails the gates to GPT-4, and every answer
     * that passes is reviewed by the oracle model through the router's Review (what the audit service's shadow
     * reviewer calls, and what probation does), so the router learns from the verdicts which questions Mixtral gets
     * right. The audit ledger is not involved: its streams start the evaluation in probation.
     */
    private void warmUp(BenchStack stack, List<ReplayDataset.Question> tune, double routeTarget) throws Exception {
        stack.router.put("/api/policy/solve", "{\"quality-target\": 0}");
        double before = stack.settledSpendUsd();
        List<Outcome> outcomes = runAll("onboarding review (tuning split)", tune, q -> onboard(stack, q));
        double spent = stack.settledSpendUsd() - before;
        report.merge("warm_up_cost_usd", spent, (a, b) -> (double) a + (double) b);
        log("  onboarding: accuracy %.3f, $%.4f; router learned: %s", accuracy(outcomes), spent,
                stack.router.get("/api/prediction"));
        stack.router.put("/api/policy/solve", "{\"quality-target\": " + routeTarget + "}");
    }

    private Outcome onboard(BenchStack stack, ReplayDataset.Question q) {
        String task = "onboard-" + Integer.toHexString(q.prompt().hashCode());
        DispatchResponse answer = stack.router().dispatch(DispatchRequest.newBuilder().setTaskId(task)
                .setStepId("solve").setWorkerType("solve").putInputs("question", q.prompt())
                .setCascade(CascadeMode.CASCADE_MODE_ON).build());
        String model = answer.getResult().getModelId();
        if (!model.equals(WEAK)) {
            return new Outcome(q.prompt(), model, correct(q, model), answer.getCostUsd(), true, false, false, null,
                    "cascaded");
        }
        ReviewResponse review = stack.router().review(ReviewRequest.newBuilder().setTaskId(task).setStepId("solve")
                .setWorkerType("solve").putInputs("question", q.prompt())
                .setCandidateOutput(answer.getResult().getOutput()).setCandidateModelId(WEAK).build());
        boolean accepted = review.getReview().getVerdict() == ReviewVerdict.REVIEW_VERDICT_ACCEPTED;
        String returned = accepted ? WEAK : STRONG;
        return new Outcome(q.prompt(), returned, correct(q, returned), answer.getCostUsd() + review.getCostUsd(),
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
        model(r, WEAK, "SMALL", options.weakInUsd(), options.weakOutUsd(), "0.85");
        model(r, STRONG, "ORACLE", options.strongInUsd(), options.strongOutUsd(), "0.95");
        r.put("tandem.router.pools.local.models", WEAK + "," + STRONG);
        r.put("tandem.router.pools.local.capacity", "64");
        r.put("tandem.router.oracle-model", STRONG);
        r.put("tandem.router.quality-target.\"solve\"", String.valueOf(routeTarget));
        r.put("tandem.router.cascade.confidence-threshold.\"solve\"", String.valueOf(cascadeThreshold));
        r.put("tandem.router.prediction.worker-types", "solve");
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
        r.put(p + "worker-types", "solve");
        r.put(p + "context-tokens", "32000");
        r.put(p + "prior-quality", prior);
    }

    private Outcome dispatch(BenchStack stack, ReplayDataset.Question q,
                             Function<DispatchRequest.Builder, DispatchRequest.Builder> shape) {
        DispatchResponse r = stack.router().dispatch(shape.apply(DispatchRequest.newBuilder()
                .setTaskId("bench-" + run + "-" + Integer.toHexString(q.prompt().hashCode())).setStepId("solve")
                .setWorkerType("solve").putInputs("question", q.prompt())).build());
        String model = r.getResult().getModelId();
        boolean cascaded = r.getAttemptsList().stream().anyMatch(a -> a.getOutcome()
                == AttemptOutcome.ATTEMPT_OUTCOME_LOW_CONFIDENCE
                || a.getOutcome() == AttemptOutcome.ATTEMPT_OUTCOME_VALIDATION_FAILED);
        String detail = "validation " + (r.getResult().getValidation().getPassed() ? "passed" : "failed");
        return new Outcome(q.prompt(), model, correct(q, model), r.getCostUsd(), cascaded, false, false, null,
                detail);
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
        return new Outcome(q.prompt(), model, correct(q, model), r.getCost().getActualUsd(), cascaded,
                step.getAudit().getDecision().equals("review"), step.getEscalated(), null, detail);
    }

    /** The scorer: the recorded answer of the model whose output was returned, right or wrong per the labels. */
    private static boolean correct(ReplayDataset.Question q, String model) {
        return switch (model) {
            case WEAK -> q.weakCorrect();
            case STRONG -> q.strongCorrect();
            default -> throw new IllegalStateException("answer from an unexpected model " + model);
        };
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
                            o = new Outcome(q.prompt(), "", false, 0, false, false, false, e.toString(), "error");
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

    /** Random routing at matched cost: each question goes to GPT-4 with the probability that matches a cost. */
    private void randomBaseline(List<ReplayDataset.Question> eval, List<Outcome> weak, List<Outcome> strong) {
        report.put("random_routing_note", "expected accuracy of sending each question to GPT-4 with probability p "
                + "and to Mixtral otherwise, p chosen so the expected cost equals the compared point's cost; "
                + "seeded draws over the two baseline runs' per-question results agree within sampling error");
        SplittableRandom random = new SplittableRandom(options.seed());
        Map<Double, Double> sampled = new LinkedHashMap<>();
        for (double p = 0.1; p < 0.95; p += 0.1) {
            int right = 0;
            for (int i = 0; i < eval.size(); i++) {
                right += (random.nextDouble() < p ? strong.get(i) : weak.get(i)).correct() ? 1 : 0;
            }
            sampled.put(Math.round(p * 10) / 10.0, right / (double) eval.size());
        }
        report.put("random_routing_sampled_accuracy_by_strong_share", sampled);
    }

    private double randomAccuracyAtCost(double cost) {
        double p = Math.max(0, Math.min(1, (cost - weakCost) / (strongCost - weakCost)));
        return (1 - p) * weakAccuracy + p * strongAccuracy;
    }

    private Point point(String system, String setting, List<Outcome> outcomes) {
        double cost = total(outcomes);
        long strongAnswers = outcomes.stream().filter(o -> o.finalModel().equals(STRONG)).count();
        return new Point(system, setting, outcomes.size(), accuracy(outcomes), cost,
                strongCost > 0 ? cost / strongCost : 1, strongAnswers / (double) Math.max(1, outcomes.size()),
                (int) outcomes.stream().filter(Outcome::cascaded).count(),
                (int) outcomes.stream().filter(Outcome::reviewed).count(),
                (int) outcomes.stream().filter(Outcome::escalated).count(),
                (int) outcomes.stream().filter(o -> o.error() != null).count());
    }

    private static double total(List<Outcome> outcomes) {
        return outcomes.stream().mapToDouble(Outcome::costUsd).sum();
    }

    private static double accuracy(List<Outcome> outcomes) {
        return outcomes.isEmpty() ? 0 : outcomes.stream().filter(Outcome::correct).count() / (double) outcomes.size();
    }

    /**
     * Area under a curve of accuracy over cost share, from the always-weak point to the always-strong one, divided
     * by that cost range: the curve's mean accuracy. The curve is the upper envelope of the system's points (a
     * deployment picks the best setting for its budget) joined to the two baselines.
     */
    private double area(List<Point> curve) {
        List<double[]> xy = new ArrayList<>();
        xy.add(new double[] {weakCost / strongCost, weakAccuracy});
        for (Point p : curve) {
            xy.add(new double[] {p.costShare(), p.accuracy()});
        }
        xy.add(new double[] {1, strongAccuracy});
        xy.sort((a, b) -> Double.compare(a[0], b[0]));
        List<double[]> envelope = new ArrayList<>();
        double best = -1;
        for (double[] p : xy) {
            if (p[0] > 1) {
                continue;
            }
            best = Math.max(best, p[1]);
            envelope.add(new double[] {p[0], best});
        }
        double area = 0;
        for (int i = 1; i < envelope.size(); i++) {
            double[] a = envelope.get(i - 1);
            double[] b = envelope.get(i);
            area += (b[0] - a[0]) * (a[1] + b[1]) / 2;
        }
        double width = 1 - weakCost / strongCost;
        return width > 0 ? area / width : 0;
    }

    /** Cost share at which the envelope first reaches the accuracy, by linear interpolation; NaN if never. */
    private double costToReach(List<Point> curve, double accuracy) {
        List<double[]> xy = new ArrayList<>();
        xy.add(new double[] {weakCost / strongCost, weakAccuracy});
        for (Point p : curve) {
            xy.add(new double[] {p.costShare(), p.accuracy()});
        }
        xy.sort((a, b) -> Double.compare(a[0], b[0]));
        for (int i = 0; i < xy.size(); i++) {
            if (xy.get(i)[1] >= accuracy) {
                if (i == 0) {
                    return xy.get(0)[0];
                }
                double[] a = xy.get(i - 1);
                double[] b = xy.get(i);
                double t = (accuracy - a[1]) / (b[1] - a[1]);
                return a[0] + t * (b[0] - a[0]);
            }
        }
        return Double.NaN;
    }

    private void summarise(Path out, Instant started) throws Exception {
        double goalAccuracy = 0.95 * strongAccuracy;
        List<Point> routing = points.stream().filter(p -> p.system().startsWith("Tandem routing alone")).toList();
        List<Point> system = points.stream().filter(p -> p.system().startsWith("Tandem routing + cascade")).toList();
        List<Point> full = points.stream().filter(p -> p.system().startsWith("Tandem routing + cascade + audit"))
                .toList();
        List<Point> tandem = new ArrayList<>(routing);
        tandem.addAll(system);
        report.put("started", started.toString());
        report.put("duration_s", Duration.between(started, Instant.now()).toSeconds());
        report.put("evaluation_questions", points.isEmpty() ? 0 : points.getFirst().questions());
        report.put("prices_usd_per_mtok", Map.of(WEAK, List.of(options.weakInUsd(), options.weakOutUsd()),
                STRONG, List.of(options.strongInUsd(), options.strongOutUsd())));
        report.put("audit_presets", options.auditPresets());
        report.put("points", points);
        report.put("auc_random", (weakAccuracy + strongAccuracy) / 2);
        report.put("auc_routing_alone", area(routing));
        report.put("auc_tandem", area(tandem));
        report.put("auc_routing_cascade_audit", area(full));
        report.put("goal_accuracy", goalAccuracy);
        report.put("cost_share_at_goal_accuracy", costToReach(tandem, goalAccuracy));
        report.put("cost_share_to_match_gpt4", costToReach(tandem, strongAccuracy));
        String stamp = started.toString().replace(':', '-');
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(out.resolve("replay-" + stamp + ".json").toFile(), report);

        StringBuilder md = new StringBuilder();
        md.append("| system | setting | accuracy | cost (USD) | cost vs all-GPT-4 | random at that cost | answers from "
                + "GPT-4 | cascaded | reviewed | escalated | errors |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Point p : points) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %.1f %% | %.4f | %.1f %% | %.1f %% | %.1f %% | %d | %d | %d "
                            + "| %d |%n", p.system(), p.setting(), 100 * p.accuracy(), p.costUsd(), 100 * p.costShare(),
                    100 * randomAccuracyAtCost(p.costUsd()), 100 * p.strongShare(), p.cascaded(), p.reviewed(),
                    p.escalated(), p.errors()));
        }
        md.append(String.format(Locale.ROOT, "%nArea under the cost-quality curve (mean accuracy over cost shares "
                        + "%.1f-100 %%): random %.3f, routing alone %.3f, routing + cascade + audit %.3f, Tandem (all "
                        + "settings) %.3f.%n", 100 * weakCost / strongCost, (weakAccuracy + strongAccuracy) / 2,
                area(routing), area(full), area(tandem)));
        md.append(String.format(Locale.ROOT, "Warm-up (onboarding on the tuning split, every stack): $%.4f in all.%n",
                ((Number) report.getOrDefault("warm_up_cost_usd", 0d)).doubleValue()));
        md.append(String.format(Locale.ROOT, "Goal %.1f %% accuracy (95 %% of GPT-4's %.1f %%): reached at %s of the "
                        + "all-GPT-4 cost. GPT-4's accuracy matched at %s.%n", 100 * goalAccuracy, 100 * strongAccuracy,
                share(costToReach(tandem, goalAccuracy)), share(costToReach(tandem, strongAccuracy))));
        Files.writeString(out.resolve("replay-" + stamp + ".md"), md.toString(), StandardCharsets.UTF_8);
        System.out.println();
        System.out.println(md);
        log("results: %s", out.resolve("replay-" + stamp + ".{json,md}"));
    }

    private static String share(double v) {
        return Double.isNaN(v) ? "no measured setting" : String.format(Locale.ROOT, "%.1f %%", 100 * v);
    }

    static void log(String format, Object... args) {
        System.out.println(Instant.now().toString().substring(11, 19) + " " + String.format(Locale.ROOT, format, args));
    }
}
