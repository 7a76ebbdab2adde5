package dev.tandem.router.catalog;

import java.util.concurrent.atomic.AtomicReference;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.router.config.ModelCatalogConfig;
import dev.tandem.router.config.RouterConfig;
import org.jboss.logging.Logger;

/** Holds the current catalog snapshot; {@link CatalogSource} swaps it atomically when the catalog changes. */
@ApplicationScoped
public class CatalogHolder {

    private static final Logger LOG = Logger.getLogger(CatalogHolder.class);

    private final AtomicReference<Catalog> current;

    @Inject
    public CatalogHolder(RouterConfig config, ModelCatalogConfig catalog) {
        this(Catalog.from(config, catalog.catalog()));
    }

    public CatalogHolder(Catalog catalog) {
        LOG.infof("catalog: %d models, %d pools, %d backends, oracle model %s", catalog.models().size(),
                catalog.pools().size(), catalog.backendList().size(), catalog.oracleModelId());
        this.current = new AtomicReference<>(catalog);
    }

    public Catalog current() {
        return current.get();
    }

    public void replace(Catalog catalog) {
        current.set(catalog);
    }
}
