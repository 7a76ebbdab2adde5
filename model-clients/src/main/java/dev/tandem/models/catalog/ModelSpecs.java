package dev.tandem.models.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tandem.models.ApiKeySource;
import dev.tandem.models.Endpoint;
import dev.tandem.models.registry.ModelRegistry;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import dev.tandem.models.ReplaySource;
import dev.tandem.models.config.ModelConfig;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/** Builds {@link ModelSpec}s and the {@link ModelRegistry} from the entries of the model catalog. */
public final class ModelSpecs {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelSpecs() {
    }

    /**
     * The registry of every model of the catalog.
     *
     * @throws IllegalStateException naming every bad entry by its key, so a misconfigured service does not start
     */
    public static ModelRegistry registry(Map<String, CatalogEntry> models) {
        var specs = new ArrayList<ModelSpec>();
        var problems = new ArrayList<String>();
        models.forEach((id, model) -> {
            try {
                specs.add(spec(id, model));
            } catch (IllegalArgumentException | IllegalStateException e) {
                problems.add("model catalog entry \"" + id + "\": " + e.getMessage());
            }
        });
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Invalid model configuration:\n  - " + String.join("\n  - ", problems));
        }
        specs.sort(Comparator.comparing(ModelSpec::id));
        return new ModelRegistry(specs);
    }

    /** One line per model for a start-up log: provider, endpoint or dataset, key source (never the key). */
    public static String describe(ModelSpec s) {
        return String.format("model %s: %s%s, capabilities %s", s.id(), s.provider().name().toLowerCase(),
                s.endpoint().map(e -> " at " + e.baseUrl() + " as " + e.providerModel() + ", key "
                        + e.apiKey().describe()).orElse(s.replay().map(r -> " from " + r.dataset() + " responses '"
                        + r.responseColumn() + "'").orElse("")), new TreeSet<>(s.capabilities()));
    }

    /** The model a catalog entry describes; the defaults are those documented on {@link ModelConfig}. */
    public static ModelSpec spec(String id, CatalogEntry model) {
        return specWithoutBatch(id, model).withBatch(model.offersBatch());
    }

    private static ModelSpec specWithoutBatch(String id, CatalogEntry model) {
        if (model.provider() == null) {
            throw new IllegalArgumentException("provider is required (embedded, openai, anthropic or replay)");
        }
        var capabilities = new LinkedHashSet<>(model.capabilities() != null ? model.capabilities()
                : defaultCapabilities(model.provider()));
        return switch (model.provider()) {
            case EMBEDDED -> {
                if (model.encoder() == null) {
                    throw new IllegalArgumentException("encoder is required for an embedded model");
                }
                yield new ModelSpec(id, Provider.EMBEDDED, model.encoder(),
                        model.exemplarShare() == null ? 1.0 : model.exemplarShare(), Optional.empty(),
                        Optional.empty(), capabilities);
            }
            case OPENAI -> ModelSpec.openai(id, endpoint(model, "https://api.openai.com/v1",
                    Endpoint.StructuredOutput.JSON_SCHEMA), capabilities);
            case ANTHROPIC -> ModelSpec.anthropic(id, endpoint(model, "https://api.anthropic.com",
                    Endpoint.StructuredOutput.TOOL), capabilities);
            case REPLAY -> {
                var replay = model.replay();
                if (replay == null || replay.dataset() == null) {
                    throw new IllegalArgumentException("a replay model needs replay.dataset and replay.response-column "
                            + "(CSV) or replay.model (JSONL)");
                }
                var answers = Optional.ofNullable(replay.model()).or(() -> Optional.ofNullable(replay.responseColumn()))
                        .orElseThrow(() -> new IllegalArgumentException(
                                "a replay model needs replay.response-column (CSV) or replay.model (JSONL)"));
                yield ModelSpec.replay(id, new ReplaySource(Path.of(replay.dataset()),
                        or(replay.promptColumn(), "prompt"), answers, or(replay.keyInput(), "question"),
                        or(replay.tokenizer(), "cl100k_base")), capabilities);
            }
        };
    }

    private static List<String> defaultCapabilities(Provider provider) {
        return switch (provider) {
            case EMBEDDED -> List.of("embedding");
            case OPENAI, ANTHROPIC -> List.of(ModelSpec.GENERATION, ModelSpec.JSON_SCHEMA);
            case REPLAY -> List.of(ModelSpec.GENERATION);
        };
    }

    private static Endpoint endpoint(CatalogEntry model, String defaultBaseUrl,
                                     Endpoint.StructuredOutput defaultMode) {
        var name = Optional.ofNullable(model.model()).orElseThrow(() -> new IllegalArgumentException(
                "model (the provider's model name) is required"));
        ObjectNode extra = null;
        var body = model.extraBody();
        if (body instanceof TextNode text && !text.textValue().isBlank()) {
            try {
                body = JSON.readTree(text.textValue());
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("extra-body is not JSON: " + e.getOriginalMessage());
            }
            if (!(body instanceof ObjectNode)) {
                throw new IllegalArgumentException("extra-body must be a JSON object");
            }
        }
        if (body instanceof ObjectNode node) {
            extra = node;
        } else if (body != null && !(body instanceof TextNode) && !body.isNull()) {
            throw new IllegalArgumentException("extra-body must be a JSON object");
        }
        var mode = Optional.ofNullable(model.structuredOutput()).map(v -> {
            try {
                return Endpoint.StructuredOutput.parse(v);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("structured-output '" + v + "' is not one of json-schema, "
                        + "json-object, vllm-guided-json, vllm-structured-outputs, prompt, tool");
            }
        }).orElse(defaultMode);
        Endpoint.MaxTokensField maxTokens;
        try {
            maxTokens = Endpoint.MaxTokensField.parse(or(model.maxTokensParameter(), "max_tokens"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("max-tokens-parameter must be max_tokens or max_completion_tokens");
        }
        return new Endpoint(URI.create(or(model.baseUrl(), defaultBaseUrl)), name,
                ApiKeySource.of(Optional.ofNullable(model.apiKeyEnv()), Optional.ofNullable(model.apiKeyFile())),
                or(model.connectTimeout(), Duration.ofSeconds(5)), or(model.requestTimeout(), Duration.ofSeconds(25)),
                or(model.headers(), Map.of()), mode, or(model.strictSchema(), false), extra, maxTokens,
                or(model.maxOutputTokens(), 1024));
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
