package dev.tandem.models.catalog;

import dev.tandem.models.config.ModelConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

import java.time.Duration;
import java.util.Map;

/** A service's view of the catalog, as the worker and the oracle map it, built from given properties. */
@ConfigMapping(prefix = "tandem")
interface CatalogTestConfig {

    CatalogConfig catalog();

    Map<String, ModelConfig> models();

    static SmallRyeConfig config(Map<String, String> properties) {
        // Quarkus converts durations such as 5s; plain SmallRye only ISO-8601
        return new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(properties, "test", 250))
                .withConverter(Duration.class, 200, DurationText::parse)
                .withMapping(CatalogTestConfig.class).build();
    }

    static CatalogTestConfig of(Map<String, String> properties) {
        return config(properties).getConfigMapping(CatalogTestConfig.class);
    }
}
