package dev.tandem.router.selection;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.models.EmbeddedEncoder;
import dev.tandem.models.EmbeddedEncoders;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.LiveView;
import dev.tandem.router.learning.OutcomeMemory;
import dev.tandem.router.learning.StreamOutlooks;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

/**
 * The prompt-level routing policy ("prompt-knn"), for the worker types listed in {@code prediction.worker-types}.
 * It predicts each model's success on this step's input from the reviewed outcomes of the most similar earlier
 * inputs (embedded in-process with {@code prediction.encoder}; see {@link OutcomeMemory} for the formula), puts
 * the prediction in place of the model's measured quality, and ranks with the default rules: so the cheapest model
 * whose predicted success meets the worker type's quality target wins, per step rather than per worker type.
 * Models with fewer than {@code prediction.min-outcomes} reviewed outcomes keep their default quality.
 * <p>
 * Outcomes are learned from the reviews the router routes ({@code Review}): the verdict on the candidate model's
 * output for those inputs. Reviews are selected by the audit policy (all of them in probation, low-confidence ones
 * and a sample later), so the memory over-represents doubtful outputs; the shrinkage toward the model's overall
 * rate keeps sparse neighbourhoods from swinging. The memory is in this replica's RAM: a restart relearns it from
 * the reviews that follow.
 */
@ApplicationScoped
public class PromptPredictionPolicy implements RoutingPolicy {

    public static final String NAME = "prompt-knn";
    private static final Logger LOG = Logger.getLogger(PromptPredictionPolicy.class);

    private final RouterConfig config;

    private final RouteSelector selector;

    private final MeterRegistry registry;

    public PromptPredictionPolicy(RouterConfig config, RouteSelector selector, MeterRegistry registry) {
        this.config = config;
        this.selector = selector;
        this.registry = registry;
    }

    private OutcomeMemory memory;
    private volatile EmbeddedEncoder encoder;
    private Set<String> workerTypes = Set.of();
    private final Set<String> gauged = new HashSet<>();

    @PostConstruct
    void init() {
        memory = new OutcomeMemory(config.prediction().maxOutcomes());
        workerTypes = Set.copyOf(config.prediction().workerTypes().orElse(List.of()));
        if (!workerTypes.isEmpty()) {
            LOG.infof("prompt-level routing for worker types %s with encoder %s (k=%d, min outcomes %d)",
                    workerTypes, config.prediction().encoder(), config.prediction().k(),
                    config.prediction().minOutcomes());
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    /** True when this worker type is routed by the prompt-level policy. */
    public boolean enabledFor(String workerType) {
        return workerTypes.contains(workerType);
    }

    @Override
    public Selection select(SelectionRequest request, Catalog catalog, LiveView live) {
        if (request.stepText().isEmpty()) {
            return selector.select(request, catalog, live)
                    .withPolicy(NAME, "prompt-knn: no step input to predict from, default quality used; ");
        }
        float[] embedding = encoder().embed(request.stepText());
        Map<String, QualityEstimate> predicted = new HashMap<>();
        StringBuilder note = new StringBuilder("prompt-knn: ");
        RouterConfig.Prediction p = config.prediction();
        for (ModelProfile model : catalog.models()) {
            if (!model.servesWorkerType(request.workerType())) {
                continue;
            }
            OutcomeMemory.Prediction prediction = memory.predict(request.workerType(), model.id(), embedding, p.k(),
                    p.minOutcomes(), p.shrinkage());
            if (prediction == null) {
                continue;
            }
            predicted.put(model.id(), new QualityEstimate(prediction.probability(), prediction.neighbours(),
                    QualityEstimate.Source.PREDICTED));
            note.append(String.format(Locale.ROOT, "%s predicted %.2f from %d nearest of %d reviewed (overall %.2f); ",
                    model.id(), prediction.probability(), prediction.neighbours(), prediction.outcomes(),
                    prediction.overallRate()));
        }
        if (predicted.isEmpty()) {
            note.append("too few reviewed outcomes yet, default quality used; ");
        }
        return selector.select(request, catalog, withPredictions(live, predicted)).withPolicy(NAME,
                note.toString());
    }

    /**
     * The live view with the predicted qualities in place of the measured ones (a suspended stream stays suspended);
     * everything else, the audit outlooks and review prices the expected cost rests on included, is the live view's.
     * Before, only the backend state was passed through, so with the policy on a worker type every stream looked
     * unaudited: a worker in probation was priced at its execution estimate alone and chosen over the oracle while
     * every output it produced was reviewed (GSM8K stream, docs/benchmarks.md).
     */
    static LiveView withPredictions(LiveView live, Map<String, QualityEstimate> predicted) {
        return new LiveView() {
            @Override
            public double p95Millis(Backend backend) {
                return live.p95Millis(backend);
            }

            @Override
            public double meanMillis(Backend backend) {
                return live.meanMillis(backend);
            }

            @Override
            public double errorRate(Backend backend) {
                return live.errorRate(backend);
            }

            @Override
            public int inFlight(Backend backend) {
                return live.inFlight(backend);
            }

            @Override
            public boolean circuitOpen(Backend backend) {
                return live.circuitOpen(backend);
            }

            @Override
            public long rateLimitedForNanos(Backend backend) {
                return live.rateLimitedForNanos(backend);
            }

            @Override
            public QualityEstimate quality(String workerType, ModelProfile model) {
                QualityEstimate base = live.quality(workerType, model);
                if (base.source() == QualityEstimate.Source.SUSPENDED) {
                    return base;
                }
                QualityEstimate q = predicted.get(model.id());
                return q != null ? q : base;
            }

            @Override
            public StreamOutlooks.Outlook outlook(String workerType, String modelId, String tenant) {
                return live.outlook(workerType, modelId, tenant);
            }

            @Override
            public double reviewUsd(String workerType, ModelProfile oracle, long inputTokens, long outputTokens) {
                return live.reviewUsd(workerType, oracle, inputTokens, outputTokens);
            }

            @Override
            public double reviewWorstUsd(String workerType, ModelProfile oracle, long inputTokens,
                                         long outputTokens) {
                return live.reviewWorstUsd(workerType, oracle, inputTokens, outputTokens);
            }

            @Override
            public double escalationUsd(String workerType, double oracleUsd) {
                return live.escalationUsd(workerType, oracleUsd);
            }
        };
    }

    /** Records a reviewed outcome: the reviewer's verdict on the model's output for this step input. */
    public void recordOutcome(String workerType, String modelId, String stepText, boolean accepted) {
        if (!enabledFor(workerType) || stepText.isEmpty()) {
            return;
        }
        memory.record(workerType, modelId, encoder().embed(stepText), accepted);
        String pair = workerType + "/" + modelId;
        synchronized (gauged) {
            if (gauged.add(pair)) {
                Gauge.builder("tandem.router.prediction.outcomes", memory, m -> m.outcomes(workerType, modelId))
                        .description("Reviewed outcomes the prompt-level policy predicts from")
                        .tags("worker_type", workerType, "model", modelId).register(registry);
            }
        }
    }

    public Map<String, int[]> summary() {
        return memory.summary();
    }

    private EmbeddedEncoder encoder() {
        EmbeddedEncoder e = encoder;
        if (e == null) {
            synchronized (this) {
                if (encoder == null) {
                    encoder = EmbeddedEncoders.get(config.prediction().encoder());
                }
                e = encoder;
            }
        }
        return e;
    }
}
