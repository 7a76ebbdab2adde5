package dev.tandem.audit.service;

import dev.tandem.audit.config.AuditConfig;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/** The audit configuration with its documented defaults, outside Quarkus. */
final class TestConfigs {

    private TestConfigs() {
    }

    static AuditConfig defaults() {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(AuditConfig.class).build();
        return config.getConfigMapping(AuditConfig.class);
    }
}
