package dev.tandem.system.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * The JVM settings a service runs with in production, read from its Kubernetes manifest
 * ({@code k8s/base/<oracle|router|worker|audit>.yaml}, the Deployment's {@code JAVA_TOOL_OPTIONS}; docs/operations.md,
 * <i>JVM settings</i>), so that the suites and the benchmarks (RSS above all) run the services as users do and a
 * change to the manifest reaches them without a second copy.
 */
public final class ProductionJvm {

    static final String VARIABLE = "JAVA_TOOL_OPTIONS";
    private static final YAMLMapper YAML = new YAMLMapper();

    private ProductionJvm() {
    }

    /** The manifest of a service module ({@code oracle-service} is {@code k8s/base/oracle.yaml}). */
    public static Path manifest(Path root, String service) {
        return root.resolve("k8s/base").resolve(service.replaceFirst("-service$", "") + ".yaml");
    }

    /** The options of the service's Deployment, one per element; fails when the manifest sets none. */
    public static List<String> options(Path root, String service) throws IOException {
        Path manifest = manifest(root, service);
        if (!Files.isRegularFile(manifest)) {
            throw new IllegalStateException(manifest + " is missing: the launcher takes each service's JVM settings "
                    + "from its manifest");
        }
        try (var docs = YAML.readerFor(JsonNode.class).<JsonNode>readValues(manifest.toFile())) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc == null || !"Deployment".equals(doc.path("kind").asText())) {
                    continue;
                }
                for (JsonNode container : doc.path("spec").path("template").path("spec").path("containers")) {
                    for (JsonNode env : container.path("env")) {
                        if (VARIABLE.equals(env.path("name").asText()) && env.hasNonNull("value")) {
                            return Arrays.stream(env.get("value").asText().trim().split("\\s+"))
                                    .filter(o -> !o.isEmpty()).toList();
                        }
                    }
                }
            }
        }
        throw new IllegalStateException(manifest + " sets no " + VARIABLE + " on its Deployment");
    }
}
