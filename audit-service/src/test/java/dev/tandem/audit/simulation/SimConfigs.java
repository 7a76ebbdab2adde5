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

    /** The configuration with the {@code key=value} overrides a diagnostic's command line ends with. */
    public static AuditConfig withArgs(String[] args, int from) {
        Map<String, String> overrides = new java.util.HashMap<>();
        for (int i = from; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            overrides.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        return with(overrides);
    }
}
