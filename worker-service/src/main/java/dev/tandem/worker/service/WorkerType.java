package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * A declarative worker type as loaded from a {@code worker-types/*.json} file. The {@code kind} selects the
 * method (classify, extract, summarize, validate); everything else is data, so a new worker type of an existing
 * kind needs no code. Only the section of its kind is set.
 */
public record WorkerType(String name, String kind, String description, List<String> requiredInputs,
                         List<String> optionalInputs, List<String> requiredCapabilities, String confidenceMethod,
                         List<String> gates, JsonNode outputSchema, PromptTemplate promptTemplate,
                         ClassifySpec classify, ExtractSpec extract, SummarizeSpec summarize, ValidateSpec validate) {

    public static final String CLASSIFY = "classify";
    public static final String EXTRACT = "extract";
    public static final String SUMMARIZE = "summarize";
    public static final String VALIDATE = "validate";
    public static final List<String> KINDS = List.of(CLASSIFY, EXTRACT, SUMMARIZE, VALIDATE);

    public WorkerType {
        requiredInputs = requiredInputs == null ? List.of() : List.copyOf(requiredInputs);
        optionalInputs = optionalInputs == null ? List.of() : List.copyOf(optionalInputs);
        requiredCapabilities = requiredCapabilities == null ? List.of() : List.copyOf(requiredCapabilities);
        gates = gates == null ? List.of() : List.copyOf(gates);
    }

    /** Prompt for the LLM path (issue 3); the embedded methods do not use it. */
    public record PromptTemplate(String system, String user) {
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

    /** Support checking settings. */
    public record ValidateSpec(double supportThreshold, int shortValueMaxWords) {
    }
}
