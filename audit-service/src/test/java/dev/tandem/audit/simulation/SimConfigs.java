package dev.tandem.audit.simulation;

import java.util.Map;

import dev.tandem.audit.config.AuditConfig;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/** The audit configuration with its documented defaults (plus overrides), outside Quarkus. */
public final class SimConfigs {

    private SimConfigs() {
    }

    public static AuditConfig defaults() {
        return with(Map.of());
    }

    public static AuditConfig with(Map<String, String> overrides) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(AuditConfig.class)
                .withSources(new PropertiesConfigSource(overrides, "overrides", 500)).build();
        return config.getConfigMapping(AuditConfig.class);
    }
}
