package dev.tandem.oracle.health;

import dev.tandem.oracle.service.PipelineCatalog;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the pipeline catalog is loaded: without it the embedded planner cannot plan. */
@Readiness
@ApplicationScoped
public class PipelineCatalogHealthCheck implements HealthCheck {

    private final PipelineCatalog catalog;

    public PipelineCatalogHealthCheck(PipelineCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    public HealthCheckResponse call() {
        var names = catalog.names();
        return HealthCheckResponse.named("pipeline-catalog").status(!names.isEmpty())
                .withData("pipelines", String.join(",", names)).build();
    }
}
