package dev.tandem.worker.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.grpc.FieldViolation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Pre-flight checks of a step's inputs: the type's required inputs, then what each kind reads. */
public final class InputChecks {

    private InputChecks() {
    }

    /** Every violation of the inputs, as {@code inputs.<name>} field violations; empty when the step may run. */
    public static List<FieldViolation> check(WorkerType type, Map<String, String> inputs) {
        var violations = new ArrayList<FieldViolation>();
        for (var name : type.requiredInputs()) {
            var value = inputs.get(name);
            if (value == null) {
                violations.add(new FieldViolation("inputs." + name, "required input '" + name + "' is missing"));
            } else if (value.isBlank()) {
                violations.add(new FieldViolation("inputs." + name, "required input '" + name + "' is blank"));
            }
        }
        if (!violations.isEmpty()) {
            return violations;
        }
        switch (type.kind()) {
            case WorkerType.CLASSIFY -> classify(type, inputs, violations);
            case WorkerType.EXTRACT -> extract(type, inputs, violations);
            case WorkerType.SUMMARIZE -> summarize(type, inputs, violations);
            case WorkerType.VALIDATE -> validate(inputs, violations);
            case WorkerType.SOLVE -> {
                // the question is free text: required and non-blank is all there is to check
            }
            case WorkerType.ANSWER -> answer(type, inputs, violations);
            default -> throw new IllegalStateException("unknown kind " + type.kind());
        }
        return violations;
    }

    private static void answer(WorkerType type, Map<String, String> inputs, List<FieldViolation> violations) {
        var name = type.answer().choicesInput();
        if (name == null) {
            return;
        }
        try {
            ShortAnswers.choices(inputs.get(name));
        } catch (IllegalArgumentException e) {
            violations.add(new FieldViolation("inputs." + name, e.getMessage()
                    + " (a JSON array of options, or one option per line written 'A) text')"));
        }
    }

    private static void classify(WorkerType type, Map<String, String> inputs, List<FieldViolation> violations) {
        var labels = inputs.get("labels");
        int given = labels == null || labels.isBlank() ? 0 : LabelSets.adHocLabels(inputs).size();
        if (labels != null && !labels.isBlank() && given < 2) {
            violations.add(new FieldViolation("inputs.labels", "give at least two comma-separated labels"));
        }
        if (given > LabelSets.MAX_AD_HOC_LABELS) {
            violations.add(new FieldViolation("inputs.labels", "give at most " + LabelSets.MAX_AD_HOC_LABELS
                    + " labels (" + given + " given)"));
        }
        var taxonomy = LabelSets.taxonomyName(type, inputs);
        if ((labels == null || labels.isBlank()) && !type.classify().taxonomies().containsKey(taxonomy)) {
            violations.add(new FieldViolation("inputs.taxonomy", "unknown taxonomy '" + taxonomy + "'; known: "
                    + type.classify().taxonomies().keySet()));
        }
    }

    private static void extract(WorkerType type, Map<String, String> inputs, List<FieldViolation> violations) {
        var unknown = EmbeddedExtractor.requestedFields(inputs).stream()
                .filter(f -> !type.extract().fields().containsKey(f)).toList();
        if (!unknown.isEmpty()) {
            violations.add(new FieldViolation("inputs.fields", "unknown fields " + unknown + "; known: "
                    + type.extract().fields().keySet()));
        }
    }

    private static void summarize(WorkerType type, Map<String, String> inputs, List<FieldViolation> violations) {
        var raw = inputs.get("max_sentences");
        if (raw == null || raw.isBlank()) {
            return;
        }
        int limit = type.summarize().maxSentencesLimit();
        try {
            int n = Integer.parseInt(raw.strip());
            if (n < 1 || n > limit) {
                violations.add(new FieldViolation("inputs.max_sentences", "must be between 1 and " + limit));
            }
        } catch (NumberFormatException e) {
            violations.add(new FieldViolation("inputs.max_sentences", "must be an integer between 1 and " + limit));
        }
    }

    private static void validate(Map<String, String> inputs, List<FieldViolation> violations) {
        try {
            EmbeddedValidator.JSON.readTree(inputs.get("candidate"));
        } catch (JsonProcessingException e) {
            violations.add(new FieldViolation("inputs.candidate", "must be JSON: " + e.getOriginalMessage()));
        }
    }
}
