package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tandem.models.EmbeddedEncoder;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Vectors;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Nearest-prototype classification. Each label's prototype is its description plus the model's share of the
 * exemplars; a label scores the mean of the top-k cosines between the text and its prototype vectors; the
 * probabilities are softmax(scores / T) with T from the worker type file; confidence is the top probability.
 */
@ApplicationScoped
public class EmbeddedClassifier {

    /** Prototype vectors per (worker type, taxonomy, model): fixed data, so embedded once per JVM. */
    private final Map<String, Map<String, List<float[]>>> prototypes = new ConcurrentHashMap<>();

    EmbeddedStepModel.MethodResult classify(WorkerType type, ModelSpec model, EmbeddedEncoder encoder,
                                            Map<String, String> inputs) {
        var spec = type.classify();
        var adHoc = LabelSets.adHocLabels(inputs);
        Map<String, List<float[]>> labelVectors;
        String labelSource;
        if (!adHoc.isEmpty()) {
            // Zero-shot: the label names are all the evidence there is.
            labelVectors = new LinkedHashMap<>();
            var vectors = encoder.embedAll(adHoc);
            for (int i = 0; i < adHoc.size(); i++) {
                labelVectors.put(adHoc.get(i), List.of(vectors.get(i)));
            }
            labelSource = "ad-hoc labels";
        } else {
            var taxonomy = LabelSets.taxonomyName(type, inputs);
            labelVectors = prototypes.computeIfAbsent(type.name() + "/" + taxonomy + "/" + model.id(),
                    k -> embedPrototypes(spec.taxonomies().get(taxonomy), model.exemplarShare(), encoder));
            labelSource = "taxonomy " + taxonomy;
        }
        var text = encoder.embed(inputs.get("text"));
        var labels = new ArrayList<>(labelVectors.keySet());
        double[] scores = new double[labels.size()];
        for (int i = 0; i < labels.size(); i++) {
            scores[i] = EmbeddedStepModel.meanOfTopK(text, labelVectors.get(labels.get(i)), spec.topK());
        }
        double[] probabilities = Vectors.softmax(scores, spec.temperature());
        int best = 0;
        for (int i = 1; i < probabilities.length; i++) {
            if (probabilities[i] > probabilities[best]) {
                best = i;
            }
        }
        var output = JsonNodeFactory.instance.objectNode();
        output.put("label", labels.get(best));
        var probs = output.putObject("probabilities");
        for (int i = 0; i < labels.size(); i++) {
            probs.put(labels.get(i), Math.round(probabilities[i] * 10_000) / 10_000.0);
        }
        return new EmbeddedStepModel.MethodResult(output, probabilities[best],
                String.format("%s: '%s' at p=%.3f over %d labels (cosine %.3f)", labelSource, labels.get(best),
                        probabilities[best], labels.size(), scores[best]));
    }

    /** A cheap model sees the first ceil(share * n) exemplars of each label: a deterministic subset. */
    static Map<String, List<float[]>> embedPrototypes(WorkerType.Taxonomy taxonomy, double exemplarShare,
                                                      EmbeddedEncoder encoder) {
        var out = new LinkedHashMap<String, List<float[]>>();
        taxonomy.labels().forEach((name, label) -> {
            int used = (int) Math.ceil(exemplarShare * label.exemplars().size());
            var texts = new ArrayList<String>();
            texts.add(label.description());
            texts.addAll(label.exemplars().subList(0, used));
            out.put(name, List.copyOf(encoder.embedAll(texts)));
        });
        return out;
    }
}
