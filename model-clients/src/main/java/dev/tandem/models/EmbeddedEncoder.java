package dev.tandem.models;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;

import java.util.ArrayList;
import java.util.List;

/**
 * A sentence encoder running in-process on ONNX Runtime. Embeddings come back L2-normalised, so the dot
 * product is the cosine similarity.
 */
public final class EmbeddedEncoder {

    private final String name;
    private final EmbeddingModel model;

    EmbeddedEncoder(String name, EmbeddingModel model) {
        this.name = name;
        this.model = model;
    }

    /** The encoder name, for example {@code all-minilm-l6-v2-q}. */
    public String name() {
        return name;
    }

    /** The embedding of one text, L2-normalised. */
    public float[] embed(String text) {
        return normalise(model.embed(text).content().vector());
    }

    /** The embeddings of several texts in one batch, L2-normalised, in order. */
    public List<float[]> embedAll(List<String> texts) {
        if (texts.isEmpty()) {
            return List.of();
        }
        var segments = texts.stream().map(t -> TextSegment.from(t.isBlank() ? " " : t)).toList();
        var out = new ArrayList<float[]>(texts.size());
        for (var e : model.embedAll(segments).content()) {
            out.add(normalise(e.vector()));
        }
        return out;
    }

    /** Number of word-piece tokens of a text with a BERT tokenizer: the token usage billed for embedded calls. */
    public int countTokens(String text) {
        return EmbeddedEncoders.countTokens(text);
    }

    private static float[] normalise(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        if (norm == 0) {
            return v;
        }
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / norm);
        }
        return out;
    }
}
