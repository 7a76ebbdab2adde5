package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tandem.models.EmbeddedEncoder;
import dev.tandem.models.Vectors;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Pattern candidates, disambiguated by meaning. Each field's regex finds candidates; with several distinct
 * candidates, the one whose context window (the characters around it) is most similar to the field description
 * wins, with certainty = its softmax probability over the candidates' similarities / T. A single candidate has
 * certainty 1 (nothing to confuse it with).
 * <p>
 * Confidence = coverage x mean certainty of the found fields, where coverage = found / requested when the step
 * named its {@code fields}, and 1 otherwise (absent fields were not asked for); 0 when nothing was found.
 */
@ApplicationScoped
public class EmbeddedExtractor {

    private final Map<String, Pattern> patterns = new ConcurrentHashMap<>();

    /**
     * @param deadlineCheck throws when the step's deadline passed or its caller gave up: the patterns are matched
     *                      within it ({@link DeadlineBoundText})
     */
    EmbeddedStepModel.MethodResult extract(WorkerType type, EmbeddedEncoder encoder, Map<String, String> inputs,
                                           Runnable deadlineCheck) {
        var spec = type.extract();
        var text = inputs.get("text");
        var explicit = requestedFields(inputs);
        var requested = explicit.isEmpty() ? List.copyOf(spec.fields().keySet()) : explicit;
        var output = JsonNodeFactory.instance.objectNode();
        var fields = output.putObject("fields");
        var missing = output.putArray("missing");
        var certainties = new ArrayList<Double>();
        for (var name : requested) {
            var field = spec.fields().get(name);
            var candidates = candidates(name, field, text, spec.contextChars(), deadlineCheck);
            if (candidates.isEmpty()) {
                fields.putNull(name);
                missing.add(name);
                continue;
            }
            var distinct = new LinkedHashMap<String, String>();
            candidates.forEach(c -> distinct.merge(c.value(), c.context(), (a, b) -> a + " … " + b));
            if (distinct.size() == 1) {
                fields.put(name, distinct.keySet().iterator().next());
                certainties.add(1.0);
                continue;
            }
            var values = new ArrayList<>(distinct.keySet());
            var texts = new ArrayList<String>();
            texts.add(field.description());
            texts.addAll(distinct.values());
            var vectors = encoder.embedAll(texts);
            double[] sims = new double[values.size()];
            for (int i = 0; i < values.size(); i++) {
                sims[i] = Vectors.cosine(vectors.getFirst(), vectors.get(i + 1));
            }
            double[] p = Vectors.softmax(sims, spec.temperature());
            int best = 0;
            for (int i = 1; i < p.length; i++) {
                if (p[i] > p[best]) {
                    best = i;
                }
            }
            fields.put(name, values.get(best));
            certainties.add(p[best]);
        }
        double meanCertainty = certainties.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double coverage = explicit.isEmpty() ? (certainties.isEmpty() ? 0 : 1)
                : (double) certainties.size() / requested.size();
        return new EmbeddedStepModel.MethodResult(output, coverage * meanCertainty,
                String.format("%d of %d fields found, mean certainty %.3f", certainties.size(), requested.size(),
                        meanCertainty));
    }

    /** The fields a step asked for ({@code fields} input, comma separated), empty when it did not ask. */
    static List<String> requestedFields(Map<String, String> inputs) {
        var raw = inputs.get("fields");
        if (raw == null || raw.isBlank()) {
            return List.of();
        }
        return Arrays.stream(raw.split(",")).map(String::strip).filter(s -> !s.isEmpty()).distinct().toList();
    }

    record Candidate(String value, String context) {
    }

    private List<Candidate> candidates(String name, WorkerType.Field field, String text, int contextChars,
                                       Runnable deadlineCheck) {
        var pattern = patterns.computeIfAbsent(name + "\u0000" + field.pattern(),
                k -> Pattern.compile(field.pattern(), field.caseInsensitive() ? Pattern.CASE_INSENSITIVE : 0));
        var matcher = pattern.matcher(new DeadlineBoundText(text, deadlineCheck));
        var out = new ArrayList<Candidate>();
        while (matcher.find()) {
            int from = Math.max(0, matcher.start() - contextChars);
            int to = Math.min(text.length(), matcher.end() + contextChars);
            out.add(new Candidate(matcher.group().strip(), text.substring(from, to)));
        }
        return out;
    }
}
