package dev.tandem.worker.health;

import dev.tandem.models.EmbeddedEncoders;
import dev.tandem.models.registry.ModelRegistry;
import dev.tandem.models.Provider;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Reports the embedded models' encoders without loading them: an encoder loads on its model's first step (seconds,
 * tens of MB), so a worker whose pool never runs a model never pays for it. A loaded encoder must embed; one not
 * loaded yet is reported as such and does not hold readiness back.
 */
@Readiness
@ApplicationScoped
public class EmbeddedEncodersReadinessCheck implements HealthCheck {

    private final ModelRegistry registry;

    public EmbeddedEncodersReadinessCheck(ModelRegistry registry) {
        this.registry = registry;
    }

    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("embedded-encoders");
        boolean up = true;
        for (var model : registry.all()) {
            if (model.provider() != Provider.EMBEDDED) {
                continue;
            }
            if (!EmbeddedEncoders.isLoaded(model.encoder())) {
                response.withData(model.id(), model.encoder() + " (loads on first use)");
                continue;
            }
            try {
                int dimensions = EmbeddedEncoders.get(model.encoder()).embed("ready").length;
                response.withData(model.id(), model.encoder() + " (" + dimensions + " dimensions)");
            } catch (RuntimeException e) {
                up = false;
                response.withData(model.id(), "failed: " + e.getMessage());
            }
        }
        return response.status(up).build();
    }
}
