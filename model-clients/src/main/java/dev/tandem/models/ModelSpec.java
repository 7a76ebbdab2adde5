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
 * @param baseUrl       for remote providers: the API base URL
 * @param providerModel for remote providers: the model name the provider expects
 * @param apiKeyEnv     for remote providers: the environment variable holding the key (never the key itself)
 * @param capabilities  capabilities such as {@code json_schema} or {@code logprobs}
 */
public record ModelSpec(String id, Provider provider, String encoder, double exemplarShare,
                        Optional<String> baseUrl, Optional<String> providerModel, Optional<String> apiKeyEnv,
                        Set<String> capabilities) {

    public ModelSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(provider, "provider");
        if (provider == Provider.EMBEDDED && (encoder == null || encoder.isBlank())) {
            throw new IllegalArgumentException("model " + id + ": an embedded model needs an encoder name");
        }
        if (!(exemplarShare > 0 && exemplarShare <= 1)) {
            throw new IllegalArgumentException("model " + id + ": exemplar share must be in (0, 1], was " + exemplarShare);
        }
        capabilities = Set.copyOf(capabilities);
    }

    /** An embedded model with the given encoder and exemplar share. */
    public static ModelSpec embedded(String id, String encoder, double exemplarShare) {
        return new ModelSpec(id, Provider.EMBEDDED, encoder, exemplarShare, Optional.empty(), Optional.empty(),
                Optional.empty(), Set.of("embedding"));
    }
}
