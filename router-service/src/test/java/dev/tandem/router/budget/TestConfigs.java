package dev.tandem.router.budget;

import java.util.HashMap;
import java.util.Map;

import dev.tandem.router.config.RouterConfig;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/** A {@link RouterConfig} outside Quarkus: the mapping's defaults plus the given properties. */
final class TestConfigs {

    private TestConfigs() {
    }

    static RouterConfig router(Map<String, String> properties) {
        Map<String, String> all = new HashMap<>();
        properties.forEach((k, v) -> {
            if (!v.isEmpty()) {
                all.put(k, v);
            }
        });
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(RouterConfig.class)
                .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withSources(new PropertiesConfigSource(all, "test", 500))
                .build();
        return config.getConfigMapping(RouterConfig.class);
    }
}
