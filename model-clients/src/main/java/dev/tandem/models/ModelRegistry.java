package dev.tandem.models;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The models a service may call, by catalog id. Built once from the service's configuration. */
public final class ModelRegistry {

    private final Map<String, ModelSpec> models;

    public ModelRegistry(Collection<ModelSpec> specs) {
        var byId = new LinkedHashMap<String, ModelSpec>();
        for (var spec : specs) {
            if (byId.putIfAbsent(spec.id(), spec) != null) {
                throw new IllegalArgumentException("model id '" + spec.id() + "' is configured twice");
            }
        }
        this.models = Map.copyOf(byId);
    }

    /** The model with that id, if configured. */
    public Optional<ModelSpec> find(String id) {
        return Optional.ofNullable(models.get(id));
    }

    /** Every configured model. */
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
}
