package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tandem.models.EmbeddedEncoder;
import dev.tandem.models.Vectors;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Extractive summary by centrality with a redundancy penalty (maximal marginal relevance): repeatedly pick the
 * sentence closest to the document centroid minus the penalty times its similarity to the sentences already
 * picked; keep document order. Confidence = cosine of the summary's centroid to the document centroid.
 */
@ApplicationScoped
public class EmbeddedSummarizer {

    EmbeddedStepModel.MethodResult summarize(WorkerType type, EmbeddedEncoder encoder, Map<String, String> inputs) {
        var spec = type.summarize();
        var sentences = Sentences.split(inputs.get("text"));
        int wanted = maxSentences(spec, inputs);
        var vectors = encoder.embedAll(sentences);
        var document = Vectors.centroid(vectors);
        var chosen = new TreeSet<Integer>();
        while (chosen.size() < Math.min(wanted, sentences.size())) {
            int best = -1;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < sentences.size(); i++) {
                if (chosen.contains(i)) {
                    continue;
                }
                double redundancy = 0;
                for (int c : chosen) {
                    redundancy = Math.max(redundancy, Vectors.cosine(vectors.get(i), vectors.get(c)));
                }
                double score = Vectors.cosine(vectors.get(i), document) - spec.redundancyPenalty() * redundancy;
                if (score > bestScore) {
                    bestScore = score;
                    best = i;
                }
            }
            chosen.add(best);
        }
        var picked = new ArrayList<String>();
        var pickedVectors = new ArrayList<float[]>();
        for (int i : chosen) {
            picked.add(sentences.get(i));
            pickedVectors.add(vectors.get(i));
        }
        var output = JsonNodeFactory.instance.objectNode();
        output.put("summary", String.join(" ", picked));
        var array = output.putArray("sentences");
        picked.forEach(array::add);
        double coverage = coverage(pickedVectors, document);
        return new EmbeddedStepModel.MethodResult(output, coverage,
                String.format("%d of %d sentences, coverage %.3f", picked.size(), sentences.size(), coverage));
    }

    /** Cosine of the centroid of some sentence vectors to the document centroid, clamped to [0, 1]. */
    static double coverage(List<float[]> sentenceVectors, float[] document) {
        if (sentenceVectors.isEmpty()) {
            return 0;
        }
        return Math.clamp(Vectors.cosine(Vectors.centroid(sentenceVectors), document), 0.0, 1.0);
    }

    /** The {@code max_sentences} input, else the type's default; pre-flight has checked it is in range. */
    static int maxSentences(WorkerType.SummarizeSpec spec, Map<String, String> inputs) {
        var raw = inputs.get("max_sentences");
        return raw == null || raw.isBlank() ? spec.defaultMaxSentences() : Integer.parseInt(raw.strip());
    }
}
