package dev.tandem.oracle.service;

import dev.tandem.grpc.FieldViolation;
import dev.tandem.models.EmbeddedEncoder;
import dev.tandem.models.EmbeddedEncoders;
import dev.tandem.models.Vectors;
import dev.tandem.models.chat.TokenUsage;
import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.mapping.PipelineDefinition;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The offline planner: a pipeline of the catalog, named by the client or matched on the task text by sentence
 * embeddings (highest cosine between the task and any of a pipeline's description and examples).
 */
@ApplicationScoped
public class EmbeddedPlanner implements Planner {

    public static final String NAME = "embedded-catalog";
    private static final Logger LOG = Logger.getLogger(EmbeddedPlanner.class);

    /** One pipeline's match against a task: its best cosine and the text that scored it. */
    public record Match(String pipeline, double score, String matchedText) {
    }

    private record IndexedPipeline(String name, List<String> texts, List<float[]> vectors) {
    }

    private final PipelineCatalog catalog;
    private final OracleConfig config;

    private volatile List<IndexedPipeline> index;

    /**
     * The token counts of recent task texts: a client that names a pipeline tends to send the same task text every
     * time, and tokenizing it (a native call) was the largest part of planning such a task.
     */
    private final BoundedMemo<String, Integer> taskTokens = new BoundedMemo<>(256, EmbeddedEncoders::countTokens);
    private static final int MEMO_MAX_TASK_CHARS = 4096;

    public EmbeddedPlanner(PipelineCatalog catalog, OracleConfig config) {
        this.catalog = catalog;
        this.config = config;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Draft plan(PlanningRequest request) {
        PipelineDefinition pipeline;
        String rationale;
        if (request.pipeline().isPresent()) {
            var name = request.pipeline().get();
            pipeline = catalog.find(name).orElseThrow(() -> InvalidTaskException.of("pipeline",
                    "unknown pipeline '" + name + "'; known pipelines: " + catalog.names()));
            rationale = "pipeline '" + name + "' was named by the client";
        } else {
            var ranked = rank(request.task());
            var best = ranked.getFirst();
            if (best.score() < config.planner().minSimilarity()) {
                throw InvalidTaskException.of("task", String.format(Locale.ROOT,
                        "no pipeline matches the task: the closest is '%s' with similarity %.2f, below the "
                                + "minimum %.2f; available pipelines: %s (name one in 'pipeline' or send a plan)",
                        best.pipeline(), best.score(), config.planner().minSimilarity(), catalog.names()));
            }
            pipeline = catalog.find(best.pipeline()).orElseThrow();
            rationale = String.format(Locale.ROOT,
                    "pipeline '%s' matched the task with cosine similarity %.2f (to \"%s\")%s",
                    best.pipeline(), best.score(), best.matchedText(),
                    ranked.size() > 1 ? String.format(Locale.ROOT, "; runner-up '%s' at %.2f",
                            ranked.get(1).pipeline(), ranked.get(1).score()) : "");
        }
        var missing = new ArrayList<FieldViolation>();
        for (var input : pipeline.requiredInputs()) {
            if (!request.inputs().containsKey(input) || request.inputs().get(input).isBlank()) {
                missing.add(new FieldViolation("inputs." + input,
                        "pipeline '" + pipeline.name() + "' requires the input '" + input + "'"));
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidTaskException("missing inputs for pipeline '" + pipeline.name() + "'", missing);
        }
        LOG.infof("planned with %s (%d steps): %s", pipeline.name(), pipeline.steps().size(), rationale);
        // the oracle model would read the task once: its tokens, estimated with a BERT tokenizer alone (a named
        // pipeline needs no encoder session, so none is loaded for it)
        var task = request.task();
        var usage = new TokenUsage(task.length() <= MEMO_MAX_TASK_CHARS ? taskTokens.get(task)
                : EmbeddedEncoders.countTokens(task), 0, 0, 0, true);
        return Draft.of(pipeline.toPlan(NAME, rationale), usage);
    }

    /** Every pipeline's match against the task, best first. */
    public List<Match> rank(String task) {
        var encoder = encoder();
        var query = encoder.embed(task);
        var matches = new ArrayList<Match>();
        for (var p : index(encoder)) {
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < p.vectors().size(); i++) {
                double s = Vectors.cosine(query, p.vectors().get(i));
                if (s > bestScore) {
                    bestScore = s;
                    best = i;
                }
            }
            matches.add(new Match(p.name(), bestScore, p.texts().get(best)));
        }
        matches.sort(Comparator.comparingDouble(Match::score).reversed());
        return matches;
    }

    /** Loads the encoder and embeds the catalog ahead of the first task. */
    public void warmUp() {
        index(encoder());
    }

    private EmbeddedEncoder encoder() {
        return EmbeddedEncoders.get(config.planner().encoder());
    }

    private List<IndexedPipeline> index(EmbeddedEncoder encoder) {
        var current = index;
        if (current == null) {
            synchronized (this) {
                current = index;
                if (current == null) {
                    current = new ArrayList<>();
                    for (Map.Entry<String, PipelineDefinition> e : catalog.all().entrySet()) {
                        var texts = new ArrayList<String>();
                        texts.add(e.getValue().description());
                        texts.addAll(e.getValue().examples());
                        current.add(new IndexedPipeline(e.getKey(), texts, encoder.embedAll(texts)));
                    }
                    index = current;
                }
            }
        }
        return current;
    }
}
