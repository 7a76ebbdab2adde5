package dev.tandem.worker.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.models.registry.ModelRegistry;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.models.chat.ChatRequest;
import dev.tandem.models.chat.ChatResponse;
import dev.tandem.models.chat.FinishReason;
import dev.tandem.models.chat.ModelCallException;
import dev.tandem.models.chat.ResponseSchema;
import dev.tandem.models.confidence.TokenConfidence;
import dev.tandem.worker.service.StepException.Reason;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The LLM path: render the worker type's prompt template, ask for the output schema, parse the JSON, and score
 * confidence by the type's declared method for the model at hand:
 * <ul>
 *   <li>{@code label-probability} (classify, model with logprobs): the label's share of the top_logprobs mass at
 *       the position where the label value starts, renormalised over the declared labels;</li>
 *   <li>{@code answer-span-quantile} (generation, model with logprobs): the {@code span_quantile} (default 0.1)
 *       quantile of the token probabilities over the answer fields' values;</li>
 *   <li>{@code verbalized-confidence} (no logprobs): the probability the model states in a {@code confidence}
 *       field the request schema adds (removed from the output);</li>
 *   <li>{@code arithmetic-evidence} (solve, no logprobs): (checks that hold + 1) / (checks + 2) over the
 *       calculations, the final answer's agreement with the last one and the presence of a final answer;</li>
 *   <li>{@code answer-evidence} (answer, free text): (checks that hold + 1) / (checks + 2) over an answer found, it
 *       being marked explicitly, and it naming one of the options when there are options.</li>
 * </ul>
 * A replayed recording is free text: only solve and answer types run on it; the final number (solve) or the final
 * answer (answer) is read out of the text, and an answer type scores it by {@code answer-evidence}, since a
 * recording states no confidence.
 */
@ApplicationScoped
public class LlmStepModel implements StepModel {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONFIDENCE = "confidence";

    private final ModelRegistry registry;

    public LlmStepModel(ModelRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Set<Provider> providers() {
        return Set.of(Provider.OPENAI, Provider.ANTHROPIC, Provider.REPLAY);
    }

    @Override
    public ModelAnswer implement(WorkerType type, ModelSpec model, Map<String, String> inputs, String instructions,
                                 CallDeadline deadline, String callKey) {
        boolean freeText = model.provider() == Provider.REPLAY;
        if (freeText && !WorkerType.FREE_TEXT_KINDS.contains(type.kind())) {
            throw new StepException(Reason.FAILED_PRECONDITION, "model " + model.id() + " replays free-text "
                    + "recordings and can run solve and answer types only, not " + type.name() + " (kind "
                    + type.kind() + ")");
        }
        var llm = type.llm();
        boolean logprobs = model.can(ModelSpec.LOGPROBS) && !freeText;
        var method = logprobs ? llm.confidenceWithLogprobs() : llm.confidenceWithoutLogprobs();
        if (freeText && WorkerType.ANSWER.equals(type.kind())) {
            method = WorkerType.ANSWER_EVIDENCE; // a recording states no confidence to verbalize
        }
        boolean verbalized = WorkerType.VERBALIZED_CONFIDENCE.equals(method);

        var prompt = PromptRenderer.render(type, inputs, instructions);
        var system = freeText ? (prompt.system() + "\n\n" + freeTextInstruction(type)).strip()
                : prompt.system();
        var request = ChatRequest.builder().system(system).user(prompt.user())
                .maxTokens(llm.maxTokens()).temperature(llm.temperature()).deadline(deadline);
        if (!callKey.isEmpty()) {
            request.callKey(callKey);
        }
        if (!freeText) {
            request.responseSchema(new ResponseSchema(type.name(), requestSchema(type, inputs, verbalized)));
        }
        if (logprobs && llm.topLogprobs() > 0) {
            request.logprobs(llm.topLogprobs());
        } else if (logprobs) {
            request.logprobs(0);
        }
        model.replay().ifPresent(source -> {
            var key = inputs.get(source.keyInput());
            if (key == null || key.isBlank()) {
                throw new StepException(Reason.FAILED_PRECONDITION, "model " + model.id() + " looks recordings up by "
                        + "the input '" + source.keyInput() + "', which this step does not have");
            }
            request.replayKey(key);
        });

        ChatResponse response;
        try {
            response = registry.client(model).chat(request.build());
        } catch (ModelCallException e) {
            throw ModelFailures.toStep(e, model);
        }
        var parsed = freeText ? fromFreeText(type, response.text()) : parseJson(response.text());
        var scored = parsed.json() == null ? new Scored(unparsed(response.text()), 0.0,
                "the response is not a JSON object")
                : score(type, inputs, response, parsed, method);
        var detail = String.format(Locale.ROOT, "%s %s: %d+%d tokens%s%s, finish %s; %s: %s",
                model.provider().name().toLowerCase(Locale.ROOT),
                response.providerModel().isBlank() ? model.id() : response.providerModel(),
                response.usage().inputTokens(), response.usage().outputTokens(),
                response.usage().cachedInputTokens() > 0 ? " (" + response.usage().cachedInputTokens() + " cached)" : "",
                response.usage().estimated() ? " (estimated)" : "",
                response.providerFinishReason().isBlank() ? response.finishReason().name().toLowerCase()
                        : response.providerFinishReason(),
                method, scored.detail())
                + (response.finishReason() == FinishReason.LENGTH ? "; cut off at the token limit" : "");
        return new ModelAnswer(scored.output(), Math.clamp(scored.confidence(), 0.0, 1.0), method, detail,
                response.usage());
    }

    /** What the model is asked to return: the type's schema, with the label enum for classify and a confidence field when verbalized. */
    static ObjectNode requestSchema(WorkerType type, Map<String, String> inputs, boolean verbalized) {
        ObjectNode schema;
        switch (type.kind()) {
            case WorkerType.CLASSIFY -> {
                schema = JsonNodeFactory.instance.objectNode().put("type", "object");
                var properties = schema.putObject("properties");
                var label = properties.putObject("label").put("type", "string");
                var labels = label.putArray("enum");
                LabelSets.labelNames(type, inputs).forEach(labels::add);
                schema.putArray("required").add("label");
            }
            case WorkerType.EXTRACT -> {
                schema = type.outputSchema().deepCopy();
                var requested = EmbeddedExtractor.requestedFields(inputs);
                var names = requested.isEmpty() ? List.copyOf(type.extract().fields().keySet()) : requested;
                var fields = JsonNodeFactory.instance.objectNode().put("type", "object");
                var fieldProperties = fields.putObject("properties");
                var required = fields.putArray("required");
                for (var name : names) {
                    fieldProperties.putObject(name).putArray("type").add("string").add("null");
                    required.add(name);
                }
                fields.put("additionalProperties", false);
                ((ObjectNode) schema.path("properties")).set("fields", fields);
            }
            case WorkerType.ANSWER -> {
                schema = type.outputSchema().deepCopy();
                var choices = Gates.choicesOf(type, inputs);
                if (!choices.isEmpty()) {
                    // with options, constrained decoding can only produce one of their letters
                    var answer = ((ObjectNode) schema.path("properties")).putObject(type.answer().answerField())
                            .put("type", "string");
                    choices.keySet().forEach(answer.putArray("enum")::add);
                }
            }
            default -> schema = type.outputSchema().deepCopy();
        }
        if (verbalized) {
            ((ObjectNode) schema.path("properties")).putObject(CONFIDENCE).put("type", "number")
                    .put("minimum", 0).put("maximum", 1)
                    .put("description", "The probability that your answer is correct.");
            var required = schema.has("required") ? (ArrayNode) schema.get("required")
                    : schema.putArray("required");
            required.add(CONFIDENCE);
        }
        schema.put("additionalProperties", false);
        return schema;
    }

    /** A JSON answer and where its JSON starts in the generated text (after a code fence, if any). */
    record Parsed(ObjectNode json, String jsonText, int offset) {
    }

    record Scored(ObjectNode output, double confidence, String detail) {
    }

    static Parsed parseJson(String text) {
        int start = text.indexOf('{');
        int end = text.lastIndexOf('}');
        if (start < 0 || end < start) {
            return new Parsed(null, text, 0);
        }
        var jsonText = text.substring(start, end + 1);
        try {
            var node = JSON.readTree(jsonText);
            return node instanceof ObjectNode o ? new Parsed(o, jsonText, start) : new Parsed(null, text, 0);
        } catch (JsonProcessingException e) {
            return new Parsed(null, text, 0);
        }
    }

    /**
     * An output from free text: the whole text is the reasoning; the answer is the final number (solve: #### N, else
     * the last number) or the final answer (answer: the last explicit marker, else the last line).
     */
    static Parsed fromFreeText(WorkerType type, String text) {
        var output = JsonNodeFactory.instance.objectNode();
        if (WorkerType.ANSWER.equals(type.kind())) {
            output.put(type.answer().reasoningField(), text.strip());
            ShortAnswers.finalAnswer(text).ifPresent(a -> output.put(type.answer().answerField(), a.answer()));
        } else {
            output.put(type.solve().reasoningField(), text.strip());
            ArithmeticCheck.finalAnswer(text).ifPresent(a -> output.put(type.solve().answerField(), a));
        }
        return new Parsed(output, null, 0);
    }

    private static String freeTextInstruction(WorkerType type) {
        return WorkerType.ANSWER.equals(type.kind()) ? type.answer().freeTextInstruction()
                : type.solve().freeTextInstruction();
    }

    private static ObjectNode unparsed(String text) {
        return JsonNodeFactory.instance.objectNode().put("unparsed_response",
                text.length() > 2000 ? text.substring(0, 2000) : text);
    }

    private Scored score(WorkerType type, Map<String, String> inputs, ChatResponse response, Parsed parsed,
                         String method) {
        var output = parsed.json();
        return switch (method) {
            case WorkerType.LABEL_PROBABILITY -> labelProbability(type, inputs, response, parsed);
            case WorkerType.ANSWER_SPAN_QUANTILE -> {
                double q = type.llm().spanQuantile();
                var spans = JsonSpans.values(parsed.jsonText(), parsed.offset(), type.llm().answerFields());
                var quantile = TokenConfidence.spanQuantile(response.text(), response.logprobs(), spans, q);
                if (quantile.isEmpty()) {
                    yield new Scored(output, 0.0, "no token log probabilities for the answer span");
                }
                yield new Scored(output, quantile.get(), String.format(Locale.ROOT,
                        "q%.2f of token probabilities over %d answer values = %.3f", q, spans.size(), quantile.get()));
            }
            case WorkerType.VERBALIZED_CONFIDENCE -> {
                var stated = output.path(CONFIDENCE);
                output.remove(CONFIDENCE);
                if (WorkerType.CLASSIFY.equals(type.kind())) {
                    withProbabilities(output, Map.of(output.path("label").asText(""),
                            stated.isNumber() ? Math.clamp(stated.asDouble(), 0, 1) : 0.0));
                }
                yield stated.isNumber()
                        ? new Scored(output, stated.asDouble(), String.format(Locale.ROOT,
                        "stated confidence %.3f", stated.asDouble()))
                        : new Scored(output, 0.0, "the model stated no confidence");
            }
            case WorkerType.ARITHMETIC_EVIDENCE -> arithmeticEvidence(type, output);
            case WorkerType.ANSWER_EVIDENCE -> answerEvidence(type, inputs, output, parsed.jsonText() == null);
            default -> throw new IllegalStateException("unknown confidence method " + method);
        };
    }

    private static Scored labelProbability(WorkerType type, Map<String, String> inputs, ChatResponse response,
                                           Parsed parsed) {
        var output = parsed.json();
        var label = output.path("label").asText("");
        var labels = LabelSets.labelNames(type, inputs);
        var start = JsonSpans.stringValueStart(parsed.jsonText(), parsed.offset(), "label");
        var distribution = start.flatMap(s -> TokenConfidence.labelDistribution(response.text(),
                response.logprobs(), s, label, labels));
        if (distribution.isPresent()) {
            withProbabilities(output, distribution.get());
            double p = distribution.get().getOrDefault(label, 0.0);
            return new Scored(output, p, String.format(Locale.ROOT, "'%s' at p=%.3f over %d labels "
                    + "(top_logprobs renormalised)", label, p, labels.size()));
        }
        // No alternatives to compare with: the probability of the label's own tokens.
        var spans = JsonSpans.values(parsed.jsonText(), parsed.offset(), List.of("label"));
        var own = TokenConfidence.spanQuantile(response.text(), response.logprobs(), spans, 1e-9);
        double p = own.orElse(0.0);
        withProbabilities(output, Map.of(label, p));
        return new Scored(output, p, own.isPresent()
                ? String.format(Locale.ROOT, "'%s': lowest label token probability %.3f (no alternatives)",
                label, p) : "no token log probabilities for the label");
    }

    private static void withProbabilities(ObjectNode output, Map<String, Double> probabilities) {
        var label = output.path("label").asText("");
        output.removeAll();
        output.put("label", label);
        var probs = output.putObject("probabilities");
        new LinkedHashMap<>(probabilities).forEach((l, p) -> probs.put(l, Math.round(p * 10_000) / 10_000.0));
    }

    /** (checks that hold + 1) / (checks + 2): Laplace's rule of succession over the executable checks. */
    static Scored arithmeticEvidence(WorkerType type, ObjectNode output) {
        var spec = type.solve();
        var calculations = ArithmeticCheck.calculations(output.path(spec.reasoningField()).asText(""),
                spec.relativeTolerance());
        JsonNode answer = output.path(spec.answerField());
        int checks = 1;
        int holding = answer.isNumber() ? 1 : 0;
        checks += calculations.size();
        holding += (int) calculations.stream().filter(ArithmeticCheck.Calculation::holds).count();
        if (!calculations.isEmpty()) {
            checks++;
            if (answer.isNumber() && ArithmeticCheck.agreesWith(answer.asDouble(), calculations.getLast(),
                    spec.relativeTolerance())) {
                holding++;
            }
        }
        double confidence = (holding + 1.0) / (checks + 2.0);
        return new Scored(output, confidence, String.format(Locale.ROOT,
                "%d of %d checks hold (%d calculations, final answer %s) = %.3f", holding, checks,
                calculations.size(), answer.isNumber() ? "present" : "missing", confidence));
    }

    /**
     * (checks that hold + 1) / (checks + 2) over the format checks of a short answer: an answer found; it marked
     * explicitly (free text: "Answer: X", "#### X"; a JSON answer field counts as marked); with options, it naming
     * one. A weak signal by design: the calibration the audit fits on reviewed outputs says what it is worth.
     */
    static Scored answerEvidence(WorkerType type, Map<String, String> inputs, ObjectNode output, boolean freeText) {
        var spec = type.answer();
        var answer = output.path(spec.answerField()).asText("").strip();
        boolean found = !answer.isEmpty();
        boolean explicit = found && (!freeText || ShortAnswers.finalAnswer(output.path(spec.reasoningField())
                .asText("")).map(ShortAnswers.Extracted::explicit).orElse(false));
        var choices = Gates.choicesOf(type, inputs);
        int checks = 2;
        int holding = (found ? 1 : 0) + (explicit ? 1 : 0);
        boolean named = false;
        if (!choices.isEmpty()) {
            checks++;
            named = ShortAnswers.resolveChoice(answer, choices).isPresent();
            holding += named ? 1 : 0;
        }
        double confidence = (holding + 1.0) / (checks + 2.0);
        return new Scored(output, confidence, String.format(Locale.ROOT,
                "%d of %d checks hold (answer %s, %s%s) = %.3f", holding, checks, found ? "found" : "missing",
                explicit ? "marked" : "not marked",
                choices.isEmpty() ? "" : named ? ", names an option" : ", names no option", confidence));
    }
}
