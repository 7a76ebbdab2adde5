package dev.tandem.worker.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.models.EmbeddedEncoders;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import dev.tandem.models.Vectors;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.TokenUsage;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The offline default: in-process ONNX sentence encoders. The worker type's kind picks the method; token usage
 * is the word-piece tokens of the inputs read and of the JSON produced.
 */
@ApplicationScoped
public class EmbeddedStepModel implements StepModel {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedClassifier classifier;
    private final EmbeddedExtractor extractor;
    private final EmbeddedSummarizer summarizer;
    private final EmbeddedValidator validator;

    public EmbeddedStepModel(EmbeddedClassifier classifier, EmbeddedExtractor extractor, EmbeddedSummarizer summarizer,
            EmbeddedValidator validator) {
        this.classifier = classifier;
        this.extractor = extractor;
        this.summarizer = summarizer;
        this.validator = validator;
    }

    @Override
    public Set<Provider> providers() {
        return Set.of(Provider.EMBEDDED);
    }

    @Override
    public ModelAnswer implement(WorkerType type, ModelSpec model, Map<String, String> inputs, String instructions,
                                 CallDeadline deadline, String callKey) {
        // an in-process inference cannot be interrupted part-way; it stops between stages instead
        check(deadline, model);
        var encoder = EmbeddedEncoders.get(model.encoder());
        check(deadline, model);
        var result = switch (type.kind()) {
            case WorkerType.CLASSIFY -> classifier.classify(type, model, encoder, inputs);
            case WorkerType.EXTRACT -> extractor.extract(type, encoder, inputs, () -> check(deadline, model));
            case WorkerType.SUMMARIZE -> summarizer.summarize(type, encoder, inputs);
            case WorkerType.VALIDATE -> validator.validate(type, encoder, inputs);
            // pre-flight refuses it first (solve needs the generation capability); kept for direct callers
            default -> throw new StepException(StepException.Reason.FAILED_PRECONDITION, "model " + model.id()
                    + " is an embedded encoder and cannot run " + type.kind() + " steps");
        };
        check(deadline, model);
        long read = inputs.values().stream().mapToLong(encoder::countTokens).sum();
        return new ModelAnswer(result.output(), result.rawConfidence(), type.confidenceMethod(), result.detail(),
                new TokenUsage(read, encoder.countTokens(json(result)), 0, 0, false));
    }

    /** Stops a step whose caller gave up or whose deadline passed. */
    static void check(CallDeadline deadline, ModelSpec model) {
        try {
            deadline.check(model.id());
        } catch (ModelCallException e) {
            throw ModelFailures.toStep(e, model);
        }
    }

    private static String json(MethodResult result) {
        try {
            return JSON.writeValueAsString(result.output());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What an embedded method produced. */
    public record MethodResult(ObjectNode output, double rawConfidence,
                               String detail) {
    }

    /** Top-k mean: robust to one odd exemplar, still rewards a label with several close ones. */
    static double meanOfTopK(float[] query, List<float[]> prototypes, int k) {
        var sims = prototypes.stream().mapToDouble(p -> Vectors.cosine(query, p))
                .boxed().sorted(Comparator.reverseOrder()).limit(Math.max(1, k))
                .mapToDouble(Double::doubleValue).toArray();
        return Arrays.stream(sims).average().orElse(0);
    }

}
