package dev.tandem.oracle.config;

import dev.tandem.models.catalog.CatalogConfig;
import dev.tandem.models.config.ModelConfig;
import io.smallrye.config.ConfigMapping;

import java.util.Map;

/**
 * The chat models the oracle may call itself, used by the model planner and synthesiser: the entries of the model
 * catalog ({@code tandem.catalog.*}, shared with the router and the workers; see docs/operations.md, Model catalog).
 */
@ConfigMapping(prefix = "tandem")
public interface OracleModels {

    /** The model catalog: one entry per model, {@code tandem.catalog.models."<id>".*}, and the catalog directory. */
    CatalogConfig catalog();

    /** Deprecated, read for one more release: {@code tandem.models."<id>".*}; use {@link #catalog()}. */
    Map<String, ModelConfig> models();
}
