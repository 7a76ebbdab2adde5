package dev.tandem.system.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * The JVM settings a service runs with in production, read from its Kubernetes manifest
 * ({@code k8s/base/<oracle|router|worker|audit>.yaml}, the Deployment's {@code JAVA_TOOL_OPTIONS}; docs/operations.md,
 * <i>JVM settings</i>), so that the suites and the benchmarks (RSS above all) run the services as users do and a
 * change to the manifest reaches them without a second copy. Besides the JVM's options, the manifest's glibc malloc
 * settings ({@code MALLOC_*}, e.g. {@code MALLOC_ARENA_MAX}) are carried too: they bound the native memory the
 * JVM, Netty and ONNX Runtime take through malloc, so RSS measured without them is not what users run.
 */
public final class ProductionJvm {

    static final String VARIABLE = "JAVA_TOOL_OPTIONS";
    /** The prefix of the environment variables glibc's malloc reads (man mallopt, ENVIRONMENT). */
    static final String MALLOC_PREFIX = "MALLOC_";
    private static final YAMLMapper YAML = new YAMLMapper();

    private ProductionJvm() {
    }

    /** The manifest of a service module ({@code oracle-service} is {@code k8s/base/oracle.yaml}). */
    public static Path manifest(Path root, String service) {
        return root.resolve("k8s/base").resolve(service.replaceFirst("-service$", "") + ".yaml");
    }

    /** The options of the service's Deployment, one per element; fails when the manifest sets none. */
    public static List<String> options(Path root, String service) throws IOException {
        var value = environment(root, service).get(VARIABLE);
        if (value == null) {
            throw new IllegalStateException(manifest(root, service) + " sets no " + VARIABLE + " on its Deployment");
        }
        return Arrays.stream(value.trim().split("\\s+")).filter(o -> !o.isEmpty()).toList();
    }

    /**
     * The Deployment's malloc settings ({@code MALLOC_*} variables with a literal value), in manifest order; empty
     * when it sets none.
     */
    public static Map<String, String> malloc(Path root, String service) throws IOException {
        var out = new LinkedHashMap<String, String>();
        environment(root, service).forEach((name, value) -> {
            if (name.startsWith(MALLOC_PREFIX)) {
                out.put(name, value);
            }
        });
        return out;
    }

    /** The literal environment values ({@code value:}, not {@code valueFrom:}) of the Deployment's container(s). */
    private static Map<String, String> environment(Path root, String service) throws IOException {
        Path manifest = manifest(root, service);
        if (!Files.isRegularFile(manifest)) {
            throw new IllegalStateException(manifest + " is missing: the launcher takes each service's JVM settings "
                    + "from its manifest");
        }
        var out = new LinkedHashMap<String, String>();
        try (var docs = YAML.readerFor(JsonNode.class).<JsonNode>readValues(manifest.toFile())) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc == null || !"Deployment".equals(doc.path("kind").asText())) {
                    continue;
                }
                for (JsonNode container : doc.path("spec").path("template").path("spec").path("containers")) {
                    for (JsonNode env : container.path("env")) {
                        if (env.hasNonNull("value")) {
                            out.putIfAbsent(env.path("name").asText(), env.get("value").asText());
                        }
                    }
                }
            }
        }
        return out;
    }
}
