package dev.tandem.worker.service;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.networknt.schema.JsonSchema;
import dev.tandem.worker.config.TandemConfig;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;

/**
 * The worker types this worker executes: the built-in files under {@code worker-types/} plus every {@code *.json}
 * in {@code tandem.worker.types-dir} (a file there with a built-in's name replaces it). Every file is checked at
 * startup against {@code worker-type.schema.json} and for what a schema cannot express (patterns compile, gates
 * exist for the kind, the output schema compiles, the default taxonomy exists); any problem stops the start with
 * a message naming the file.
 */
@Startup
@ApplicationScoped
public class WorkerTypeCatalog {

    private static final Logger LOG = Logger.getLogger(WorkerTypeCatalog.class);
    private static final String BUILT_IN_DIR = "worker-types/";

    /** Worker type files are snake_case JSON; unknown properties are already rejected by the file schema. */
    static final ObjectMapper FILES = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** Inputs each kind's method reads; a type of that kind must require them. */
    private static final Map<String, List<String>> KIND_INPUTS = Map.of(
            WorkerType.CLASSIFY, List.of("text"),
            WorkerType.EXTRACT, List.of("text"),
            WorkerType.SUMMARIZE, List.of("text"),
            WorkerType.VALIDATE, List.of("source", "candidate"),
            WorkerType.SOLVE, List.of(),
            WorkerType.ANSWER, List.of());

    private final TandemConfig config;

    private volatile Map<String, LoadedType> types = Map.of();

    public WorkerTypeCatalog(TandemConfig config) {
        this.config = config;
    }

    /** A worker type with its compiled output schema and the file it came from. */
    public record LoadedType(WorkerType definition, JsonSchema outputSchema, String source) {
    }

    @PostConstruct
    void load() {
        types = loadAll(config.worker().typesDir());
        LOG.infof("Loaded %d worker types: %s", types.size(), new TreeSet<>(types.keySet()));
    }

    /** Loads and checks every worker type file; fails with all problems found. */
    static Map<String, LoadedType> loadAll(Optional<String> typesDir) {
        var fileSchema = JsonSchemas.compile(readTree("worker-type.schema.json", resource("worker-type.schema.json")));
        var loaded = new LinkedHashMap<String, LoadedType>();
        var problems = new ArrayList<String>();
        for (var file : builtInFiles()) {
            var source = "classpath:" + BUILT_IN_DIR + file;
            parse(source, resource(BUILT_IN_DIR + file), fileSchema, problems).ifPresent(t -> put(loaded, t));
        }
        typesDir.filter(dir -> !dir.isBlank()).map(Path::of).ifPresent(dir -> {
            if (!Files.isDirectory(dir)) {
                problems.add("tandem.worker.types-dir " + dir + " is not a directory");
                return;
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (var file : files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
                    try (var in = Files.newInputStream(file)) {
                        parse(file.toString(), in, fileSchema, problems).ifPresent(t -> put(loaded, t));
                    }
                }
            } catch (IOException e) {
                problems.add("cannot read tandem.worker.types-dir " + dir + ": " + e.getMessage());
            }
        });
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Invalid worker type files:\n  - " + String.join("\n  - ", problems));
        }
        return Map.copyOf(loaded);
    }

    private static void put(Map<String, LoadedType> loaded, LoadedType type) {
        var previous = loaded.put(type.definition().name(), type);
        if (previous != null) {
            LOG.infof("Worker type '%s' from %s replaces the one from %s", type.definition().name(), type.source(),
                    previous.source());
        }
    }

    private static Optional<LoadedType> parse(String source, InputStream in, JsonSchema fileSchema,
                                              List<String> problems) {
        JsonNode tree;
        try {
            tree = readTree(source, in);
        } catch (UncheckedIOException e) {
            problems.add(source + ": not valid JSON: " + e.getCause().getMessage());
            return Optional.empty();
        }
        var violations = JsonSchemas.violations(fileSchema, tree);
        if (!violations.isEmpty()) {
            violations.forEach(v -> problems.add(source + ": " + v));
            return Optional.empty();
        }
        WorkerType type;
        try {
            type = FILES.treeToValue(tree, WorkerType.class);
        } catch (IOException e) {
            problems.add(source + ": " + e.getMessage());
            return Optional.empty();
        }
        int before = problems.size();
        checkSemantics(source, type, problems);
        JsonSchema outputSchema = null;
        try {
            outputSchema = JsonSchemas.compile(type.outputSchema());
        } catch (RuntimeException e) {
            problems.add(source + ": output_schema does not compile: " + e.getMessage());
        }
        return problems.size() == before ? Optional.of(new LoadedType(type, outputSchema, source)) : Optional.empty();
    }

    private static void checkSemantics(String source, WorkerType type, List<String> problems) {
        for (var input : KIND_INPUTS.get(type.kind())) {
            if (!type.requiredInputs().contains(input)) {
                problems.add(source + ": a " + type.kind() + " type must require input '" + input + "'");
            }
        }
        for (var gate : type.gates()) {
            var kinds = Gates.KINDS.get(gate);
            if (kinds == null) {
                problems.add(source + ": unknown gate '" + gate + "'; known: " + Gates.KINDS.keySet());
            } else if (!kinds.contains(type.kind())) {
                problems.add(source + ": gate '" + gate + "' does not apply to kind " + type.kind());
            }
        }
        if (type.classify() != null && !type.classify().taxonomies().containsKey(type.classify().defaultTaxonomy())) {
            problems.add(source + ": default_taxonomy '" + type.classify().defaultTaxonomy() + "' is not defined");
        }
        if (type.extract() != null) {
            type.extract().fields().forEach((name, field) -> {
                try {
                    Pattern.compile(field.pattern());
                } catch (PatternSyntaxException e) {
                    problems.add(source + ": pattern of field '" + name + "' does not compile: " + e.getDescription());
                }
            });
        }
        if (type.summarize() != null
                && type.summarize().defaultMaxSentences() > type.summarize().maxSentencesLimit()) {
            problems.add(source + ": default_max_sentences exceeds max_sentences_limit");
        }
        if (type.solve() != null) {
            var properties = type.outputSchema().path("properties");
            for (var field : List.of(type.solve().answerField(), type.solve().reasoningField())) {
                if (!properties.has(field)) {
                    problems.add(source + ": output_schema has no property '" + field + "' named by the solve section");
                }
            }
        }
        if (type.answer() != null) {
            var properties = type.outputSchema().path("properties");
            for (var field : List.of(type.answer().answerField(), type.answer().reasoningField())) {
                if (!properties.has(field)) {
                    problems.add(source + ": output_schema has no property '" + field + "' named by the answer section");
                }
            }
            var choices = type.answer().choicesInput();
            if (choices != null && !type.requiredInputs().contains(choices) && !type.optionalInputs().contains(choices)) {
                problems.add(source + ": choices_input '" + choices + "' is not an input of the type");
            }
        }
        var llm = type.llm();
        if (WorkerType.LABEL_PROBABILITY.equals(llm.confidenceWithLogprobs()) && !WorkerType.CLASSIFY.equals(type.kind())) {
            problems.add(source + ": label-probability needs labels, it applies to classify only");
        }
        if (WorkerType.ARITHMETIC_EVIDENCE.equals(llm.confidenceWithoutLogprobs()) && !WorkerType.SOLVE.equals(type.kind())) {
            problems.add(source + ": arithmetic-evidence applies to solve only");
        }
        if (WorkerType.ANSWER_EVIDENCE.equals(llm.confidenceWithoutLogprobs()) && !WorkerType.ANSWER.equals(type.kind())) {
            problems.add(source + ": answer-evidence applies to answer only");
        }
        if (type.promptTemplate() != null) {
            for (var placeholder : PromptRenderer.placeholders(type.promptTemplate())) {
                if (!PromptRenderer.known(type, placeholder)) {
                    problems.add(source + ": prompt_template uses {{" + placeholder + "}}, which is neither an input "
                            + "of the type nor one of " + PromptRenderer.DERIVED);
                }
            }
        }
    }

    private static List<String> builtInFiles() {
        try (var in = resource(BUILT_IN_DIR + "index.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream resource(String name) {
        var in = Thread.currentThread().getContextClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("missing class path resource " + name);
        }
        return in;
    }

    private static JsonNode readTree(String source, InputStream in) {
        try (in) {
            return FILES.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": " + e.getMessage(), e);
        }
    }

    /** The worker type of that name, if loaded. */
    public Optional<LoadedType> find(String name) {
        return Optional.ofNullable(types.get(name));
    }

    /** Every loaded worker type, by name. */
    public Collection<LoadedType> all() {
        return types.values().stream()
                .sorted(Comparator.comparing(t -> t.definition().name())).toList();
    }
}
