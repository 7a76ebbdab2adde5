package dev.tandem.worker.service;

import dev.tandem.models.ModelSpec;
import dev.tandem.models.Provider;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/** The {@link StepModel} backend for each provider present in this build. */
@ApplicationScoped
public class StepModels {

    private final Map<Provider, StepModel> byProvider = new EnumMap<>(Provider.class);

    StepModels(Instance<StepModel> backends) {
        backends.forEach(b -> b.providers().forEach(p -> byProvider.put(p, b)));
    }

    /** The backend for a model, if its provider is available in this build. */
    public Optional<StepModel> forModel(ModelSpec model) {
        return Optional.ofNullable(byProvider.get(model.provider()));
    }

    /** The backend for a model, or FAILED_PRECONDITION when its provider is not in this build. */
    public StepModel require(ModelSpec model) {
        return forModel(model).orElseThrow(() -> new StepException(StepException.Reason.FAILED_PRECONDITION,
                "provider " + model.provider().name().toLowerCase() + " not available in this build (model "
                        + model.id() + ")"));
    }
}
