package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The validation gates a worker type file may name. {@code schema} applies to every kind; the others check
 * what the schema cannot: that the output is grounded in the step's inputs, or (solve) that its arithmetic holds.
 */
public final class Gates {

    /** Outcome of one gate. */
    public record GateOutcome(String name, boolean passed, String detail) {
    }

    /** Gate name to the kinds it applies to. */
    public static final Map<String, Set<String>> KINDS = Map.of(
            "schema", Set.copyOf(WorkerType.KINDS),
            "label-in-taxonomy", Set.of(WorkerType.CLASSIFY),
            "values-occur-in-text", Set.of(WorkerType.EXTRACT),
            "sentences-from-source", Set.of(WorkerType.SUMMARIZE),
            "verdict-consistent", Set.of(WorkerType.VALIDATE),
            "final-answer", Set.of(WorkerType.SOLVE, WorkerType.ANSWER),
            "arithmetic", Set.of(WorkerType.SOLVE),
            "choice", Set.of(WorkerType.ANSWER));

    private Gates() {
    }

    /** Runs every gate the worker type names over an output. */
    public static List<GateOutcome> run(WorkerType type, JsonSchema outputSchema, Map<String, String> inputs,
                                        JsonNode output) {
        var outcomes = new ArrayList<GateOutcome>();
        for (var gate : type.gates()) {
            outcomes.add(switch (gate) {
                case "schema" -> schema(outputSchema, output);
                case "label-in-taxonomy" -> labelInTaxonomy(type, inputs, output);
                case "values-occur-in-text" -> valuesOccurInText(inputs, output);
                case "sentences-from-source" -> sentencesFromSource(inputs, output);
                case "verdict-consistent" -> verdictConsistent(output);
                case "final-answer" -> finalAnswer(type, output);
                case "arithmetic" -> arithmetic(type, output);
                case "choice" -> choice(type, inputs, output);
                // The catalog rejects unknown gate names at startup, so this is a programming error.
                default -> throw new IllegalStateException("unknown gate " + gate);
            });
        }
        return outcomes;
    }

    static GateOutcome schema(JsonSchema outputSchema, JsonNode output) {
        var violations = JsonSchemas.violations(outputSchema, output);
        return violations.isEmpty() ? new GateOutcome("schema", true, "output matches the schema")
                : new GateOutcome("schema", false, String.join("; ", violations));
    }

    static GateOutcome labelInTaxonomy(WorkerType type, Map<String, String> inputs, JsonNode output) {
        var labels = LabelSets.labelNames(type, inputs);
        var label = output.path("label").asText("");
        if (!labels.contains(label)) {
            return new GateOutcome("label-in-taxonomy", false, "label '" + label + "' is not one of " + labels);
        }
        var unknown = new ArrayList<String>();
        output.path("probabilities").fieldNames().forEachRemaining(name -> {
            if (!labels.contains(name)) {
                unknown.add(name);
            }
        });
        return unknown.isEmpty() ? new GateOutcome("label-in-taxonomy", true, "label '" + label + "' is in the label set")
                : new GateOutcome("label-in-taxonomy", false, "probabilities for unknown labels " + unknown);
    }

    static GateOutcome valuesOccurInText(Map<String, String> inputs, JsonNode output) {
        var text = inputs.getOrDefault("text", "");
        var invented = new ArrayList<String>();
        int checked = 0;
        for (var field : output.path("fields").properties()) {
            if (field.getValue().isTextual()) {
                checked++;
                if (!Sentences.occursIn(field.getValue().asText(), text)) {
                    invented.add(field.getKey());
                }
            }
        }
        return invented.isEmpty() ? new GateOutcome("values-occur-in-text", true, checked + " values occur in the text")
                : new GateOutcome("values-occur-in-text", false, "values not in the text for " + invented);
    }

    static GateOutcome sentencesFromSource(Map<String, String> inputs, JsonNode output) {
        var text = inputs.getOrDefault("text", "");
        int foreign = 0;
        int checked = 0;
        for (var sentence : output.path("sentences")) {
            checked++;
            if (!Sentences.occursIn(sentence.asText(), text)) {
                foreign++;
            }
        }
        return foreign == 0 ? new GateOutcome("sentences-from-source", true, checked + " sentences from the source")
                : new GateOutcome("sentences-from-source", false, foreign + " of " + checked + " sentences not in the source");
    }

    static GateOutcome verdictConsistent(JsonNode output) {
        var valid = output.path("valid").asBoolean(false);
        var unsupported = output.path("unsupported").size();
        var checked = output.path("checked").asInt(0);
        var consistent = valid == (unsupported == 0) && unsupported <= checked;
        return new GateOutcome("verdict-consistent", consistent, consistent ? "verdict agrees with the unsupported list"
                : "valid=" + valid + " with " + unsupported + " unsupported of " + checked + " checked");
    }

    /** Solve: the output carries a finite final number. Answer: a non-blank answer. */
    static GateOutcome finalAnswer(WorkerType type, JsonNode output) {
        if (WorkerType.ANSWER.equals(type.kind())) {
            var answer = output.path(type.answer().answerField());
            return answer.isTextual() && !answer.asText().isBlank()
                    ? new GateOutcome("final-answer", true, "answer '" + answer.asText() + "'")
                    : new GateOutcome("final-answer", false, "no answer could be read from the response");
        }
        var answer = output.path(type.solve().answerField());
        if (answer.isNumber() && Double.isFinite(answer.asDouble())) {
            return new GateOutcome("final-answer", true, "final answer " + ArithmeticCheck.format(answer.asDouble()));
        }
        return new GateOutcome("final-answer", false, answer.isMissingNode() || answer.isNull()
                ? "no final number could be extracted from the response"
                : "'" + type.solve().answerField() + "' is not a number: " + answer);
    }

    /**
     * Solve: every explicit calculation of the reasoning recomputes to its stated result, and the final answer is
     * the result of the last calculation.
     */
    static GateOutcome arithmetic(WorkerType type, JsonNode output) {
        var spec = type.solve();
        var calculations = ArithmeticCheck.calculations(output.path(spec.reasoningField()).asText(""),
                spec.relativeTolerance());
        if (calculations.isEmpty()) {
            return new GateOutcome("arithmetic", true, "no explicit calculations to check");
        }
        var problems = new ArrayList<String>();
        calculations.stream().filter(c -> !c.holds()).forEach(c -> problems.add(c.describe()));
        var answer = output.path(spec.answerField());
        var last = calculations.getLast();
        if (answer.isNumber() && !ArithmeticCheck.agreesWith(answer.asDouble(), last, spec.relativeTolerance())) {
            problems.add("the final answer " + ArithmeticCheck.format(answer.asDouble())
                    + " is not the result of the last calculation (" + last.expression() + ")");
        }
        long verified = calculations.stream().filter(ArithmeticCheck.Calculation::holds).count();
        return problems.isEmpty()
                ? new GateOutcome("arithmetic", true, "all " + calculations.size() + " calculations recompute")
                : new GateOutcome("arithmetic", false, verified + " of " + calculations.size()
                + " calculations recompute; wrong: " + String.join("; ", problems));
    }

    /** Answer: with options given, the answer names exactly one of them (by letter or by text). */
    static GateOutcome choice(WorkerType type, Map<String, String> inputs, JsonNode output) {
        var choices = choicesOf(type, inputs);
        if (choices.isEmpty()) {
            return new GateOutcome("choice", true, "no options given: a free short answer");
        }
        var answer = output.path(type.answer().answerField()).asText("");
        return ShortAnswers.resolveChoice(answer, choices)
                .map(letter -> new GateOutcome("choice", true, "option " + letter + " of " + choices.size()))
                .orElseGet(() -> new GateOutcome("choice", false, "'" + answer + "' names none of the options "
                        + choices.keySet()));
    }

    /** The step's options (empty when the type takes none or the step gives none); inputs are checked before. */
    static Map<String, String> choicesOf(WorkerType type, Map<String, String> inputs) {
        var name = type.answer().choicesInput();
        return name == null ? Map.of() : ShortAnswers.choices(inputs.get(name));
    }
}
