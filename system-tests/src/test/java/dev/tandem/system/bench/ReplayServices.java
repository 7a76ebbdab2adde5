package dev.tandem.system.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.StepResult;

/**
 * What the replay benchmarks share: the worker's replay models and the router's catalog over one replay file (two of
 * its models, a weak and a strong one), the whole-system call ({@code OracleService.Execute}) and the scorer, which
 * finds the released text among the question's recorded responses and is, with {@link ReplayDataset}, the only
 * reader of {@code correct}.
 */
final class ReplayServices {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The worker type the prompts run as by default (replayed free text: the solve kind, a final number). */
    static final String DEFAULT_WORKER_TYPE = "solve";
    /**
     * The worker types a replay file's prompts can run as, with the oracle pipeline and task text that run them:
     * {@code solve} (math word problems, the final number) and {@code answer} (short answers and multiple choice).
     */
    static final Map<String, String[]> PIPELINES = Map.of(
            "solve", new String[] {"math-word-problem", "Solve this math word problem"},
            "answer", new String[] {"short-answer", "Answer this question"});

    /** A worker type the replay benchmarks can run, else an error naming those they can. */
    static String workerType(String name) {
        if (!PIPELINES.containsKey(name)) {
            throw new IllegalArgumentException("--worker-type must be one of " + new TreeSet<>(PIPELINES.keySet())
                    + ", not " + name);
        }
        return name;
    }

    /**
     * One question's result: which model's recorded answer was returned (found by the released text), whether it is
     * right ({@code correct} of that response in the file, the score), the file's comparison label of it
     * ({@code labelCorrect}, RouteLLM's for GSM8K, for comparison only), and what everything it took cost.
     */
    record Outcome(String prompt, String finalModel, boolean correct, boolean labelCorrect, double costUsd,
                   boolean cascaded, boolean reviewed, boolean escalated, String error, String detail) {
    }

    final ReplayDataset data;
    /** The worker type the prompts run as ({@link #PIPELINES}). */
    final String workerType;
    final String weakModel;
    final String strongModel;
    /** The replay model ids of the two models ({@link #replayId}). */
    final String weak;
    final String strong;
    private final double[] weakPrice;
    private final double[] strongPrice;

    /**
     * @param weakPrice   input, output USD per 1M tokens of the weak model
     * @param strongPrice the same for the strong model (the oracle)
     */
    ReplayServices(ReplayDataset data, String workerType, String weakModel, String strongModel, double[] weakPrice,
                   double[] strongPrice) {
        this.data = data;
        this.workerType = workerType(workerType);
        this.weakModel = weakModel;
        this.strongModel = strongModel;
        this.weak = replayId(weakModel);
        this.strong = replayId(strongModel);
        this.weakPrice = weakPrice.clone();
        this.strongPrice = strongPrice.clone();
    }

    /** The replay model id of a model of the file: "replay-" and its name after the last '/', lower case. */
    static String replayId(String model) {
        String name = model.substring(model.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9.]+", "-");
        return "replay-" + name;
    }

    /** The worker's replay models over the file: the two compared models. */
    Map<String, String> workerConfig() {
        Map<String, String> w = new LinkedHashMap<>();
        for (String model : List.of(weakModel, strongModel)) {
            String p = "tandem.catalog.models.\"" + replayId(model) + "\".";
            w.put(p + "provider", "replay");
            w.put(p + "replay.dataset", data.file.toString());
            w.put(p + "replay.model", model);
            w.put(p + "replay.key-input", "question");
            w.put(p + "capabilities", "generation");
        }
        return w;
    }

    /**
     * The router's catalog (weak model tier SMALL, strong model tier ORACLE and the oracle model, one pool), the
     * prompt-level policy on the worker type at a quality target, and the cascade's confidence threshold; everything
     * else (exploration budget, cost model) at the router's defaults.
     */
    Map<String, String> routerConfig(double routeTarget, double cascadeThreshold) {
        Map<String, String> r = new LinkedHashMap<>();
        model(r, weak, "SMALL", weakPrice, "0.85");
        model(r, strong, "ORACLE", strongPrice, "0.95");
        r.put("tandem.router.pools.local.models", weak + "," + strong);
        r.put("tandem.router.pools.local.capacity", "64");
        r.put("tandem.router.oracle-model", strong);
        r.put("tandem.router.quality-target.\"" + workerType + "\"", String.valueOf(routeTarget));
        r.put("tandem.router.cascade.confidence-threshold.\"" + workerType + "\"", String.valueOf(cascadeThreshold));
        r.put("tandem.router.prediction.worker-types", workerType);
        r.put("tandem.router.estimates.output-tokens.\"" + workerType + "\"", "200");
        r.put("tandem.router.audit.poll-interval", "2s");
        r.put("tandem.router.dispatch.attempt-timeout", "60s");
        return r;
    }

    private void model(Map<String, String> r, String id, String tier, double[] price, String prior) {
        String p = "tandem.catalog.models.\"" + id + "\".";
        r.put(p + "tier", tier);
        r.put(p + "input-usd-per-mtok", String.valueOf(price[0]));
        r.put(p + "output-usd-per-mtok", String.valueOf(price[1]));
        r.put(p + "capabilities", "generation");
        r.put(p + "worker-types", workerType);
        r.put(p + "context-tokens", "32000");
        r.put(p + "prior-quality", prior);
    }

    /** One question through the whole system as a client sends it: {@code OracleService.Execute}, the question only. */
    ExecuteResponse executeRaw(BenchStack stack, ReplayDataset.Question q) {
        String[] pipeline = PIPELINES.get(workerType);
        return stack.oracle().execute(ExecuteRequest.newBuilder().setTask(pipeline[1])
                .setPipeline(pipeline[0]).putInputs("question", q.prompt()).build());
    }

    /** The scored outcome of one {@code Execute} answer (its first step, the solve step). */
    Outcome outcome(ReplayDataset.Question q, ExecuteResponse r) {
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
    Outcome scored(ReplayDataset.Question q, String outputJson, String model, double cost, boolean cascaded,
                   boolean reviewed, boolean escalated, String detail) {
        JsonNode output;
        try {
            output = JSON.readTree(outputJson);
        } catch (Exception e) {
            output = JSON.createObjectNode();
        }
        String text = output.path("reasoning").asText("");
        String named = model.equals(weak) ? weakModel : model.equals(strong) ? strongModel : model;
        var recorded = q.modelOf(text, named);
        if (recorded.isEmpty()) {
            return new Outcome(q.prompt(), model, false, false, cost, cascaded, reviewed, escalated,
                    "released output is no recorded response: " + abbreviate(outputJson), detail);
        }
        ReplayDataset.Recorded r = q.of(recorded.get());
        String id = recorded.get().equals(weakModel) ? weak : recorded.get().equals(strongModel) ? strong
                : recorded.get();
        return new Outcome(q.prompt(), id, r.correct(), r.comparisonLabel().orElse(r.correct()), cost, cascaded,
                reviewed, escalated, null, detail);
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }
}
