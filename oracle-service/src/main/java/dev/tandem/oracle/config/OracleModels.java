package dev.tandem.oracle.config;

import dev.tandem.models.config.ModelConfig;
import io.smallrye.config.ConfigMapping;

import java.util.Map;

/**
 * The chat models the oracle may call itself, {@code tandem.models."<id>".*}: the same keys as the worker's
 * (see worker-service/README.md), used by the model planner and synthesiser.
 */
@ConfigMapping(prefix = "tandem")
public interface OracleModels {

    Map<String, ModelConfig> models();
}
