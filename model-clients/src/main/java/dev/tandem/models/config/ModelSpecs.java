package dev.tandem.models.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.models.ApiKeySource;
import dev.tandem.models.Endpoint;
import dev.tandem.models.ModelRegistry;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import dev.tandem.models.ReplaySource;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/** Builds {@link ModelSpec}s and the {@link ModelRegistry} from {@code tandem.models.*}. */
public final class ModelSpecs {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelSpecs() {
    }

    /**
     * The registry of every configured model.
     *
     * @throws IllegalStateException naming every bad entry by its key, so a misconfigured service does not start
     */
    public static ModelRegistry registry(Map<String, ModelConfig> models) {
        var specs = new ArrayList<ModelSpec>();
        var problems = new ArrayList<String>();
        models.forEach((id, model) -> {
            try {
                specs.add(spec(id, model));
            } catch (IllegalArgumentException | IllegalStateException e) {
                problems.add("tandem.models.\"" + id + "\": " + e.getMessage());
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

    public static ModelSpec spec(String id, ModelConfig model) {
        var capabilities = new LinkedHashSet<>(model.capabilities().orElse(defaultCapabilities(model.provider())));
        return switch (model.provider()) {
            case EMBEDDED -> {
                if (model.encoder().isEmpty()) {
                    throw new IllegalArgumentException("encoder is required for an embedded model");
                }
                yield new ModelSpec(id, Provider.EMBEDDED, model.encoder().get(), model.exemplarShare(),
                        Optional.empty(), Optional.empty(), capabilities);
            }
            case OPENAI -> ModelSpec.openai(id, endpoint(model, "https://api.openai.com/v1",
                    Endpoint.StructuredOutput.JSON_SCHEMA), capabilities);
            case ANTHROPIC -> ModelSpec.anthropic(id, endpoint(model, "https://api.anthropic.com",
                    Endpoint.StructuredOutput.TOOL), capabilities);
            case REPLAY -> {
                var replay = model.replay().orElseThrow(() -> new IllegalArgumentException(
                        "a replay model needs replay.dataset and replay.response-column (CSV) or replay.model (JSONL)"));
                var answers = replay.model().or(replay::responseColumn).orElseThrow(() -> new IllegalArgumentException(
                        "a replay model needs replay.response-column (CSV) or replay.model (JSONL)"));
                yield ModelSpec.replay(id, new ReplaySource(Path.of(replay.dataset()), replay.promptColumn(),
                        answers, replay.keyInput(), replay.tokenizer()), capabilities);
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

    private static Endpoint endpoint(ModelConfig model, String defaultBaseUrl, Endpoint.StructuredOutput defaultMode) {
        var name = model.model().orElseThrow(() -> new IllegalArgumentException(
                "model (the provider's model name) is required"));
        ObjectNode extra = null;
        if (model.extraBody().isPresent() && !model.extraBody().get().isBlank()) {
            try {
                if (!(JSON.readTree(model.extraBody().get()) instanceof ObjectNode node)) {
                    throw new IllegalArgumentException("extra-body must be a JSON object");
                }
                extra = node;
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("extra-body is not JSON: " + e.getOriginalMessage());
            }
        }
        var mode = model.structuredOutput().map(v -> {
            try {
                return Endpoint.StructuredOutput.parse(v);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("structured-output '" + v + "' is not one of json-schema, "
                        + "json-object, vllm-guided-json, vllm-structured-outputs, prompt, tool");
            }
        }).orElse(defaultMode);
        Endpoint.MaxTokensField maxTokens;
        try {
            maxTokens = Endpoint.MaxTokensField.parse(model.maxTokensParameter());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("max-tokens-parameter must be max_tokens or max_completion_tokens");
        }
        return new Endpoint(URI.create(model.baseUrl().orElse(defaultBaseUrl)), name,
                ApiKeySource.of(model.apiKeyEnv(), model.apiKeyFile()), model.connectTimeout(), model.requestTimeout(),
                model.headers(), mode, model.strictSchema(), extra, maxTokens, model.maxOutputTokens());
    }
}
