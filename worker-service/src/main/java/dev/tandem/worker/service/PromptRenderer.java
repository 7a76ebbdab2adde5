package dev.tandem.worker.service;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders a worker type's prompt template for the LLM path. {@code {{name}}} is the step input of that name;
 * derived placeholders: {@code {{labels}}} (classify: the label set with descriptions), {@code {{fields}}}
 * (extract: the requested fields with descriptions), {@code {{max_sentences}}} (summarize: the input or the
 * type's default). Templates are checked at load: a placeholder that is neither is an error.
 */
public final class PromptRenderer {

    /** Placeholders computed from the type's data rather than taken from an input. */
    public static final Set<String> DERIVED = Set.of("labels", "fields", "max_sentences");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([a-zA-Z0-9_.-]+)\\s*}}");

    private PromptRenderer() {
    }

    /** The system and user messages of a step. */
    public record Prompt(String system, String user) {
    }

    /** Every placeholder a template uses. */
    static Set<String> placeholders(WorkerType.PromptTemplate template) {
        var out = new LinkedHashSet<String>();
        for (var text : new String[] {template.system(), template.user()}) {
            if (text == null) {
                continue;
            }
            Matcher m = PLACEHOLDER.matcher(text);
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    static boolean known(WorkerType type, String placeholder) {
        return type.requiredInputs().contains(placeholder) || type.optionalInputs().contains(placeholder)
                || DERIVED.contains(placeholder);
    }

    /** Renders the template with the step's inputs; the step's instructions are appended to the user message. */
    public static Prompt render(WorkerType type, Map<String, String> inputs, String instructions) {
        var template = type.promptTemplate() != null ? type.promptTemplate()
                : new WorkerType.PromptTemplate(type.description(), defaultUser(type));
        var system = fill(template.system() == null ? "" : template.system(), type, inputs);
        var user = fill(template.user(), type, inputs);
        if (instructions != null && !instructions.isBlank()) {
            user = user + "\n\nAdditional instructions: " + instructions.strip();
        }
        return new Prompt(system, user);
    }

    private static String defaultUser(WorkerType type) {
        var sb = new StringBuilder();
        for (var input : type.requiredInputs()) {
            sb.append(input).append(":\n{{").append(input).append("}}\n\n");
        }
        return sb.toString().strip();
    }

    private static String fill(String text, WorkerType type, Map<String, String> inputs) {
        Matcher m = PLACEHOLDER.matcher(text);
        var out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(value(m.group(1), type, inputs)));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String value(String name, WorkerType type, Map<String, String> inputs) {
        switch (name) {
            case "labels" -> {
                if (type.classify() != null) {
                    return labels(type, inputs);
                }
            }
            case "fields" -> {
                if (type.extract() != null) {
                    return fields(type, inputs);
                }
            }
            case "max_sentences" -> {
                if (type.summarize() != null) {
                    return String.valueOf(EmbeddedSummarizer.maxSentences(type.summarize(), inputs));
                }
            }
            default -> {
                // an input
            }
        }
        return inputs.getOrDefault(name, "");
    }

    private static String labels(WorkerType type, Map<String, String> inputs) {
        var adHoc = LabelSets.adHocLabels(inputs);
        if (!adHoc.isEmpty()) {
            return String.join("\n", adHoc.stream().map(l -> "- " + l).toList());
        }
        var taxonomy = type.classify().taxonomies().get(LabelSets.taxonomyName(type, inputs));
        return String.join("\n", taxonomy.labels().entrySet().stream()
                .map(e -> "- " + e.getKey() + ": " + e.getValue().description()).toList());
    }

    private static String fields(WorkerType type, Map<String, String> inputs) {
        List<String> requested = EmbeddedExtractor.requestedFields(inputs);
        var names = requested.isEmpty() ? List.copyOf(type.extract().fields().keySet()) : requested;
        return String.join("\n", names.stream()
                .map(n -> "- " + n + ": " + type.extract().fields().get(n).description()).toList());
    }
}
