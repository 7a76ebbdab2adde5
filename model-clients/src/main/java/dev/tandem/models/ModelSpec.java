package dev.tandem.models;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One model a service may call, as configured: its id (the name the router's catalog uses), how it is
 * reached, and what it can do.
 *
 * @param id            catalog id, for example {@code embedded-minilm}
 * @param provider      how the model is reached
 * @param encoder       for {@link Provider#EMBEDDED}: the encoder name, see {@link EmbeddedEncoders}
 * @param exemplarShare for embedded models: the share of each worker type's exemplars the model may use
 *                      (the oracle uses all of them, a cheap worker fewer), in (0, 1]
 * @param endpoint      for {@link Provider#OPENAI} and {@link Provider#ANTHROPIC}: URL, model name, key, timeouts
 * @param replay        for {@link Provider#REPLAY}: the dataset and column it answers from
 * @param capabilities  capabilities such as {@code generation}, {@code json_schema} or {@code logprobs}
 * @param batch         whether the catalog offers the model's batch path (its entry has batch prices): BATCH-class
 *                      calls to an OpenAI or Anthropic model go through the provider's batch API
 */
public record ModelSpec(String id, Provider provider, String encoder, double exemplarShare,
                        Optional<Endpoint> endpoint, Optional<ReplaySource> replay, Set<String> capabilities,
                        boolean batch) {

    /** The model returns per-token log probabilities. */
    public static final String LOGPROBS = "logprobs";
    /** The model follows a JSON schema (structured output). */
    public static final String JSON_SCHEMA = "json_schema";
    /** The model writes free text (LLMs; the embedded encoders cannot). */
    public static final String GENERATION = "generation";

    public ModelSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(provider, "provider");
        endpoint = endpoint == null ? Optional.empty() : endpoint;
        replay = replay == null ? Optional.empty() : replay;
        if (provider == Provider.EMBEDDED && (encoder == null || encoder.isBlank())) {
            throw new IllegalArgumentException("model " + id + ": an embedded model needs an encoder name");
        }
        if ((provider == Provider.OPENAI || provider == Provider.ANTHROPIC) && endpoint.isEmpty()) {
            throw new IllegalArgumentException("model " + id + ": a " + provider.name().toLowerCase()
                    + " model needs a base URL and a model name");
        }
        if (provider == Provider.REPLAY && replay.isEmpty()) {
            throw new IllegalArgumentException("model " + id + ": a replay model needs a dataset and a response column");
        }
        if (!(exemplarShare > 0 && exemplarShare <= 1)) {
            throw new IllegalArgumentException("model " + id + ": exemplar share must be in (0, 1], was " + exemplarShare);
        }
        capabilities = Set.copyOf(capabilities);
    }

    public ModelSpec(String id, Provider provider, String encoder, double exemplarShare, Optional<Endpoint> endpoint,
                     Optional<ReplaySource> replay, Set<String> capabilities) {
        this(id, provider, encoder, exemplarShare, endpoint, replay, capabilities, false);
    }

    /** The same model with its batch path offered or not. */
    public ModelSpec withBatch(boolean offered) {
        return new ModelSpec(id, provider, encoder, exemplarShare, endpoint, replay, capabilities, offered);
    }

    /** An embedded model with the given encoder and exemplar share. */
    public static ModelSpec embedded(String id, String encoder, double exemplarShare) {
        return new ModelSpec(id, Provider.EMBEDDED, encoder, exemplarShare, Optional.empty(), Optional.empty(),
                Set.of("embedding"));
    }

    /** A model behind an OpenAI-compatible Chat Completions server. */
    public static ModelSpec openai(String id, Endpoint endpoint, Set<String> capabilities) {
        return new ModelSpec(id, Provider.OPENAI, null, 1.0, Optional.of(endpoint), Optional.empty(), capabilities);
    }

    /** A model behind Anthropic's Messages API. */
    public static ModelSpec anthropic(String id, Endpoint endpoint, Set<String> capabilities) {
        return new ModelSpec(id, Provider.ANTHROPIC, null, 1.0, Optional.of(endpoint), Optional.empty(), capabilities);
    }

    /** A model that answers from recorded responses. */
    public static ModelSpec replay(String id, ReplaySource source, Set<String> capabilities) {
        return new ModelSpec(id, Provider.REPLAY, null, 1.0, Optional.empty(), Optional.of(source), capabilities);
    }

    /** Whether the model has a capability. */
    public boolean can(String capability) {
        return capabilities.contains(capability);
    }
}
