package dev.tandem.router.config;

import dev.tandem.models.catalog.CatalogConfig;
import io.smallrye.config.ConfigMapping;

/**
 * The model catalog the router shares with the workers and the oracle ({@code tandem.catalog.*}): the router reads
 * what each model is (tier, prices, capabilities, context window, prior quality, pools) from the entries that name a
 * tier.
 */
@ConfigMapping(prefix = "tandem")
public interface ModelCatalogConfig {

    CatalogConfig catalog();
}
