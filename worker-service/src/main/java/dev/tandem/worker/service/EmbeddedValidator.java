package dev.tandem.worker.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.models.EmbeddedEncoder;
import dev.tandem.models.Vectors;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Support checking of an upstream output against its source. Every string value of the candidate JSON is
 * checked, except under the type's {@code ignored_keys} (names, not claims: an extraction's {@code missing} list): a short value (up to {@code short_value_max_words} words) must occur in the source (support 1, else
 * its best cosine to a source sentence, for information); each sentence of a longer value needs a source sentence
 * with cosine at least {@code support_threshold}. Confidence = the weakest support score.
 */
@ApplicationScoped
public class EmbeddedValidator {

    static final ObjectMapper JSON = new ObjectMapper();

    EmbeddedStepModel.MethodResult validate(WorkerType type, EmbeddedEncoder encoder, Map<String, String> inputs) {
        var spec = type.validate();
        var source = inputs.get("source");
        var values = new LinkedHashSet<String>();
        collectStrings(parseCandidate(inputs.get("candidate")), Set.copyOf(spec.ignoredKeys()), values);
        var sourceSentences = Sentences.split(source);
        List<float[]> sourceVectors = null;
        var unsupported = new ArrayList<String>();
        double weakest = 1.0;
        int checked = 0;
        for (var value : values) {
            boolean isShort = value.split("\\s+").length <= spec.shortValueMaxWords();
            var claims = isShort ? List.of(value) : Sentences.split(value);
            for (var claim : claims) {
                checked++;
                if (isShort && Sentences.occursIn(claim, source)) {
                    continue;
                }
                if (sourceVectors == null) {
                    sourceVectors = encoder.embedAll(sourceSentences);
                }
                double support = bestSupport(encoder.embed(claim), sourceVectors);
                boolean supported = !isShort && support >= spec.supportThreshold();
                if (!supported) {
                    unsupported.add(claim);
                }
                weakest = Math.min(weakest, Math.clamp(support, 0.0, 1.0));
            }
        }
        var output = JsonNodeFactory.instance.objectNode();
        output.put("valid", unsupported.isEmpty());
        output.put("checked", checked);
        var array = output.putArray("unsupported");
        unsupported.forEach(array::add);
        // With nothing to check there is nothing unsupported: the weakest support stays at its neutral maximum.
        return new EmbeddedStepModel.MethodResult(output, weakest,
                String.format("%d of %d values unsupported, weakest support %.3f", unsupported.size(), checked,
                        weakest));
    }

    private static double bestSupport(float[] claim, List<float[]> sourceVectors) {
        double best = 0;
        for (var s : sourceVectors) {
            best = Math.max(best, Vectors.cosine(claim, s));
        }
        return best;
    }

    /** The candidate input as JSON; pre-flight has checked that it parses. */
    static JsonNode parseCandidate(String candidate) {
        try {
            return JSON.readTree(candidate);
        } catch (JsonProcessingException e) {
            throw new StepException(StepException.Reason.INVALID_ARGUMENT, "inputs.candidate is not JSON",
                    List.of(new FieldViolation("inputs.candidate", "must be JSON: " + e.getOriginalMessage())));
        }
    }

    /** Every string value in a JSON tree, field names and the values under {@code ignoredKeys} excluded. */
    static void collectStrings(JsonNode node, Set<String> ignoredKeys, Set<String> out) {
        if (node.isTextual()) {
            if (!node.asText().isBlank()) {
                out.add(node.asText().strip());
            }
        } else if (node.isObject()) {
            node.properties().forEach(e -> {
                if (!ignoredKeys.contains(e.getKey())) {
                    collectStrings(e.getValue(), ignoredKeys, out);
                }
            });
        } else if (node.isArray()) {
            node.forEach(child -> collectStrings(child, ignoredKeys, out));
        }
    }
}
