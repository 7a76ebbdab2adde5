package dev.tandem.worker.health;

import dev.tandem.models.EmbeddedEncoders;
import dev.tandem.models.ModelRegistry;
import dev.tandem.models.Provider;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once every embedded model's encoder loads and embeds (the first call loads the ONNX session). */
@Readiness
@ApplicationScoped
public class EmbeddedEncodersReadinessCheck implements HealthCheck {

    @Inject
    ModelRegistry registry;

    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("embedded-encoders");
        boolean up = true;
        for (var model : registry.all()) {
            if (model.provider() != Provider.EMBEDDED) {
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
