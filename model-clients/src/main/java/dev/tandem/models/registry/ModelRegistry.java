package dev.tandem.models.registry;

import dev.tandem.models.EmbeddedEncoder;
import dev.tandem.models.EmbeddedEncoders;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import dev.tandem.models.anthropic.AnthropicModelClient;
import dev.tandem.models.batch.AnthropicBatchApi;
import dev.tandem.models.batch.BatchCoordinator;
import dev.tandem.models.batch.BatchingModelClient;
import dev.tandem.models.batch.OpenAiBatchApi;
import dev.tandem.models.chat.ModelClient;
import dev.tandem.models.openai.OpenAiModelClient;
import dev.tandem.models.replay.ReplayModelClient;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models a service may call, by catalog id. A package of its own: it creates the provider clients, which build on
 * the model types of {@code dev.tandem.models}, so the base package does not depend on its providers. Built once from the service's configuration; chat clients are
 * created on first use and shared (they are thread-safe and hold a connection pool).
 */
public final class ModelRegistry implements AutoCloseable {

    private final Map<String, ModelSpec> models;
    private final Map<String, ModelClient> clients = new ConcurrentHashMap<>();
    private final BatchCoordinator batches;

    public ModelRegistry(Collection<ModelSpec> specs) {
        this(specs, null);
    }

    /**
     * A registry whose OpenAI and Anthropic models with a batch path ({@link ModelSpec#batch()}) send deferred calls
     * (BATCH-class steps) through their provider's batch API, grouped by {@code batches}; null for none.
     */
    public ModelRegistry(Collection<ModelSpec> specs, BatchCoordinator batches) {
        this.batches = batches;
        var byId = new LinkedHashMap<String, ModelSpec>();
        for (var spec : specs) {
            if (byId.putIfAbsent(spec.id(), spec) != null) {
                throw new IllegalArgumentException("model id '" + spec.id() + "' is configured twice");
            }
        }
        this.models = Collections.unmodifiableMap(byId);
    }

    /** The model with that id, if configured. */
    public Optional<ModelSpec> find(String id) {
        return Optional.ofNullable(models.get(id));
    }

    /** Every configured model, in configuration order. */
    public Collection<ModelSpec> all() {
        return models.values();
    }

    /** The encoder of an embedded model; fails when the model is not embedded. */
    public EmbeddedEncoder encoder(ModelSpec spec) {
        if (spec.provider() != Provider.EMBEDDED) {
            throw new IllegalArgumentException("model " + spec.id() + " is not embedded");
        }
        return EmbeddedEncoders.get(spec.encoder());
    }

    /** The chat client of a non-embedded model, created on first use. */
    public ModelClient client(ModelSpec spec) {
        return clients.computeIfAbsent(spec.id(), id -> batches == null || !spec.batch() ? create(spec)
                : switch (spec.provider()) {
                    case OPENAI -> {
                        var client = new OpenAiModelClient(spec);
                        yield new BatchingModelClient(client, new OpenAiBatchApi(client), batches);
                    }
                    case ANTHROPIC -> {
                        var client = new AnthropicModelClient(spec);
                        yield new BatchingModelClient(client, new AnthropicBatchApi(client), batches);
                    }
                    default -> create(spec);
                });
    }

    /** Whether a deferred call to the model goes through its provider's batch API (else it runs at once). */
    public boolean batchesThroughProvider(ModelSpec spec) {
        return batches != null && spec.batch()
                && (spec.provider() == Provider.OPENAI || spec.provider() == Provider.ANTHROPIC);
    }

    /**
     * Polls on the provider batches the coordinator's journal holds open (left by an earlier run of the service),
     * each through the batch API of its model, and from then on those a replica stops polling. A batch of a model
     * that has no batch path here any more stays open in the journal (the coordinator names it in a warning).
     */
    public void resumeBatches() {
        if (batches == null) {
            return;
        }
        batches.resume((provider, modelId) -> find(modelId).filter(this::batchesThroughProvider)
                .map(spec -> client(spec))
                .filter(BatchingModelClient.class::isInstance)
                .map(client -> ((BatchingModelClient) client).batches())
                .filter(api -> api.provider().equals(provider)));
    }

    /** Creates the chat client for a model; one per model is enough (see {@link #client}). */
    public static ModelClient create(ModelSpec spec) {
        return switch (spec.provider()) {
            case OPENAI -> new OpenAiModelClient(spec);
            case ANTHROPIC -> new AnthropicModelClient(spec);
            case REPLAY -> new ReplayModelClient(spec);
            case EMBEDDED -> throw new IllegalArgumentException("model " + spec.id()
                    + " is an embedded encoder, not a chat model");
        };
    }

    @Override
    public void close() {
        clients.values().forEach(ModelClient::close);
        clients.clear();
        if (batches != null) {
            batches.close();
        }
    }
}
