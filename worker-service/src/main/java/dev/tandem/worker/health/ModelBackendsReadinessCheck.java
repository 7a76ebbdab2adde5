package dev.tandem.worker.health;

import dev.tandem.models.registry.ModelRegistry;
import dev.tandem.models.Provider;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Reports every chat model's availability (key present, replay dataset readable) without calling it. Down only
 * when chat models are configured and none of them can take calls: one missing dataset must not take a pod
 * that serves other models out of rotation (the router learns per backend from the call errors).
 */
@Readiness
@ApplicationScoped
public class ModelBackendsReadinessCheck implements HealthCheck {

    private final ModelRegistry registry;

    public ModelBackendsReadinessCheck(ModelRegistry registry) {
        this.registry = registry;
    }

    @Override
    public HealthCheckResponse call() {
        var response = HealthCheckResponse.named("model-backends");
        int chat = 0;
        int available = 0;
        for (var model : registry.all()) {
            if (model.provider() == Provider.EMBEDDED) {
                continue;
            }
            chat++;
            var availability = registry.client(model).availability();
            if (availability.available()) {
                available++;
            }
            response.withData(model.id(), (availability.available() ? "up: " : "down: ") + availability.detail());
        }
        boolean embedded = registry.all().stream().anyMatch(m -> m.provider() == Provider.EMBEDDED);
        return response.status(chat == 0 || available > 0 || embedded).build();
    }
}
