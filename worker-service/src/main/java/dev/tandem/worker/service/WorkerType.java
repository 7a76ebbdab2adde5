package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A declarative worker type as loaded from a {@code worker-types/*.json} file. The {@code kind} selects the
 * method (classify, extract, summarize, validate on the embedded encoders and on LLMs; solve and answer on LLMs
 * only);
 * everything else is data, so a new worker type of an existing kind needs no code. Only the section of its kind
 * is set; {@code llm} (how an LLM runs it) has defaults per kind.
 */
public record WorkerType(String name, String kind, String description, List<String> requiredInputs,
                         List<String> optionalInputs, List<String> requiredCapabilities, String confidenceMethod,
                         List<String> gates, JsonNode outputSchema, PromptTemplate promptTemplate, LlmSpec llm,
                         ClassifySpec classify, ExtractSpec extract, SummarizeSpec summarize, ValidateSpec validate,
                         SolveSpec solve, AnswerSpec answer) {

    public static final String CLASSIFY = "classify";
    public static final String EXTRACT = "extract";
    public static final String SUMMARIZE = "summarize";
    public static final String VALIDATE = "validate";
    public static final String SOLVE = "solve";
    public static final String ANSWER = "answer";
    public static final List<String> KINDS = List.of(CLASSIFY, EXTRACT, SUMMARIZE, VALIDATE, SOLVE, ANSWER);
    /** Kinds a free-text recording (the replay backend) can run: the answer is read out of the text. */
    public static final Set<String> FREE_TEXT_KINDS = Set.of(SOLVE, ANSWER);

    /** Confidence from the top_logprobs of the label tokens, renormalised over the declared labels. */
    public static final String LABEL_PROBABILITY = "label-probability";
    /** Confidence = a low quantile of the token probabilities over the answer span. */
    public static final String ANSWER_SPAN_QUANTILE = "answer-span-quantile";
    /** Confidence = the probability the model states for its answer (models without logprobs). */
    public static final String VERBALIZED_CONFIDENCE = "verbalized-confidence";
    /** Confidence = Laplace-smoothed share of the executable checks (calculations, final answer) that hold. */
    public static final String ARITHMETIC_EVIDENCE = "arithmetic-evidence";
    /**
     * Confidence = Laplace-smoothed share of the format checks of a short answer that hold (an answer found, marked
     * explicitly, naming one of the options when there are options); free-text answers, which state nothing else.
     */
    public static final String ANSWER_EVIDENCE = "answer-evidence";

    public WorkerType {
        requiredInputs = requiredInputs == null ? List.of() : List.copyOf(requiredInputs);
        optionalInputs = optionalInputs == null ? List.of() : List.copyOf(optionalInputs);
        requiredCapabilities = requiredCapabilities == null ? List.of() : List.copyOf(requiredCapabilities);
        gates = gates == null ? List.of() : List.copyOf(gates);
        llm = LlmSpec.withDefaults(llm, kind);
    }

    /** Prompt for the LLM path: {@code {{input}}} placeholders, plus {@code {{labels}}} and {@code {{fields}}}. */
    public record PromptTemplate(String system, String user) {
    }

    /**
     * How an LLM runs this type.
     *
     * @param confidenceWithLogprobs    method when the model returns logprobs ({@code label-probability},
     *                                  {@code answer-span-quantile})
     * @param confidenceWithoutLogprobs method otherwise ({@code verbalized-confidence}, {@code arithmetic-evidence})
     * @param spanQuantile              the quantile of {@code answer-span-quantile}, in (0, 1]
     * @param answerFields              top-level output fields whose values form the answer span (empty = all)
     * @param maxTokens                 generation limit
     * @param temperature               sampling temperature
     * @param topLogprobs               alternatives asked for per token
     */
    public record LlmSpec(String confidenceWithLogprobs, String confidenceWithoutLogprobs, Double spanQuantile,
                          List<String> answerFields, Integer maxTokens, Double temperature, Integer topLogprobs) {

        public LlmSpec {
            answerFields = answerFields == null ? List.of() : List.copyOf(answerFields);
        }

        static LlmSpec withDefaults(LlmSpec given, String kind) {
            var g = given == null ? new LlmSpec(null, null, null, null, null, null, null) : given;
            return new LlmSpec(
                    g.confidenceWithLogprobs() != null ? g.confidenceWithLogprobs()
                            : CLASSIFY.equals(kind) ? LABEL_PROBABILITY : ANSWER_SPAN_QUANTILE,
                    g.confidenceWithoutLogprobs() != null ? g.confidenceWithoutLogprobs()
                            : SOLVE.equals(kind) ? ARITHMETIC_EVIDENCE : VERBALIZED_CONFIDENCE,
                    g.spanQuantile() != null ? g.spanQuantile() : 0.1,
                    g.answerFields(),
                    g.maxTokens() != null ? g.maxTokens() : 1024,
                    g.temperature() != null ? g.temperature() : 0.0,
                    g.topLogprobs() != null ? g.topLogprobs() : 5);
        }
    }

    /**
     * Math word problems. The answer is a number in {@code answer_field}, the working in {@code reasoning_field};
     * a model that cannot return JSON (a replayed recording) writes free text ending with {@code #### <number>},
     * which is turned into the same output.
     *
     * @param answerField           output field of the final number
     * @param reasoningField        output field of the working
     * @param freeTextInstruction   appended to the system prompt when the model answers in free text
     * @param relativeTolerance     two numbers agree when they differ by at most this share of the larger
     */
    public record SolveSpec(String answerField, String reasoningField, String freeTextInstruction,
                            double relativeTolerance) {
    }

    /**
     * Short answers and multiple choice. The answer is a short text in {@code answer_field} (with options, their
     * letter or text), the working in {@code reasoning_field}; a model that cannot return JSON (a replayed
     * recording) writes free text whose final answer is read out of it ({@link ShortAnswers#finalAnswer}).
     *
     * @param answerField         output field of the answer
     * @param reasoningField      output field of the working
     * @param choicesInput        the step input holding the options of a multiple-choice question (optional)
     * @param freeTextInstruction appended to the system prompt when the model answers in free text
     * @param relativeTolerance   two numeric answers agree when they differ by at most this share of the larger
     */
    public record AnswerSpec(String answerField, String reasoningField, String choicesInput,
                             String freeTextInstruction, double relativeTolerance) {
    }

    /** Classification data: taxonomies of labels with descriptions and exemplars. */
    public record ClassifySpec(double temperature, int topK, String defaultTaxonomy,
                               Map<String, Taxonomy> taxonomies) {
    }

    /** A named label set. */
    public record Taxonomy(String description, Map<String, Label> labels) {
    }

    /** A label with the description and exemplars its prototype is built from. */
    public record Label(String description, List<String> exemplars) {
        public Label {
            exemplars = exemplars == null ? List.of() : List.copyOf(exemplars);
        }
    }

    /** Extraction data: the fields with their patterns and descriptions. */
    public record ExtractSpec(int contextChars, double temperature, Map<String, Field> fields) {
    }

    /** A field: candidates come from the pattern, the description disambiguates between several. */
    public record Field(String description, String pattern, boolean caseInsensitive) {
    }

    /** Extractive summarisation settings. */
    public record SummarizeSpec(int defaultMaxSentences, int maxSentencesLimit, double redundancyPenalty) {
    }

    /**
     * Support checking settings. {@code ignoredKeys}: object keys whose values name things rather than state them
     * (an extraction's {@code missing} list holds the names of fields it did not find), so they are not claims about
     * the source.
     */
    public record ValidateSpec(double supportThreshold, int shortValueMaxWords, List<String> ignoredKeys) {

        public ValidateSpec {
            ignoredKeys = ignoredKeys == null ? List.of() : List.copyOf(ignoredKeys);
        }
    }
}
