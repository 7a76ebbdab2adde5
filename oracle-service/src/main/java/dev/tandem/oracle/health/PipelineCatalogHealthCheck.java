package dev.tandem.oracle.health;

import dev.tandem.oracle.service.PipelineCatalog;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the pipeline catalog is loaded: without it the embedded planner cannot plan. */
@Readiness
@jakarta.enterprise.context.ApplicationScoped
public class PipelineCatalogHealthCheck implements HealthCheck {

    @Inject
    PipelineCatalog catalog;

    @Override
    public HealthCheckResponse call() {
        var names = catalog.names();
        return HealthCheckResponse.named("pipeline-catalog").status(!names.isEmpty())
                .withData("pipelines", String.join(",", names)).build();
    }
}
