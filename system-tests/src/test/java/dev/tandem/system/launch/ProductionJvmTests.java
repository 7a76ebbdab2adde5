package dev.tandem.system.launch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProductionJvmTests {

    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void everyServiceStartsWithTheJvmSettingsOfItsManifest() throws Exception {
        for (var service : new String[] {"oracle-service", "router-service", "worker-service", "audit-service"}) {
            var manifest = Files.readString(ProductionJvm.manifest(ROOT, service));
            var options = ProductionJvm.options(ROOT, service);
            // the exact string the Deployment sets, split into options
            assertThat(manifest).contains("value: \"" + String.join(" ", options) + "\"");
            assertThat(options).anyMatch(o -> o.startsWith("-Xmx")).contains("-XX:+UseSerialGC");
            // glibc's arenas (8 per core by default) hold freed native memory per thread: every service caps them
            assertThat(ProductionJvm.malloc(ROOT, service)).containsEntry("MALLOC_ARENA_MAX", "2");
        }
        for (var service : new String[] {"oracle-service", "router-service", "audit-service"}) {
            // the small services (docs/operations.md, JVM settings): a fixed young generation, so that short-lived
            // request garbage dies there instead of filling the old generation up to -Xmx, and freed native memory
            // (C2's arenas above all) trimmed back to the OS
            assertThat(ProductionJvm.options(ROOT, service)).anyMatch(o -> o.startsWith("-Xmn"))
                    .anyMatch(o -> o.startsWith("-XX:TrimNativeHeapInterval="));
        }
    }

    @Test
    void aRunsHeapComesAfterTheManifestsSoItWins(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("k8s/base"));
        Files.writeString(root.resolve("k8s/base/router.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: router}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: router}
                spec:
                  template:
                    spec:
                      containers:
                        - name: router
                          env:
                            - name: OTHER
                              value: "x"
                            - name: JAVA_TOOL_OPTIONS
                              value: "-Xms32m  -Xmx192m -XX:+UseSerialGC"
                """);
        assertThat(ProductionJvm.options(root, "router-service")).containsExactly("-Xms32m", "-Xmx192m",
                "-XX:+UseSerialGC");

        var previous = System.getProperty("tandem.root");
        System.setProperty("tandem.root", root.toString());
        try {
            Files.createDirectories(root.resolve("router-service/target/quarkus-app"));
            Files.writeString(root.resolve("router-service/target/quarkus-app/quarkus-run.jar"), "");
            var command = new ServiceProcess("router-service", 19300, Map.of("a.b", "c")).heap("768m").command();
            assertThat(command.subList(1, 4)).containsExactly("-Xms32m", "-Xmx192m", "-XX:+UseSerialGC");
            assertThat(command.indexOf("-Xmx768m")).isGreaterThan(command.indexOf("-Xmx192m"));
            assertThat(command).contains("-Dquarkus.http.port=19300", "-Da.b=c");
        } finally {
            if (previous == null) {
                System.clearProperty("tandem.root");
            } else {
                System.setProperty("tandem.root", previous);
            }
        }
    }

    @Test
    void theManifestsMallocSettingsReachTheProcessAndAnExperimentCanReplaceThem(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("k8s/base"));
        Files.writeString(root.resolve("k8s/base/audit.yaml"), """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: audit}
                spec:
                  template:
                    spec:
                      containers:
                        - name: audit
                          env:
                            - name: JAVA_TOOL_OPTIONS
                              value: "-Xmx128m"
                            - name: MALLOC_ARENA_MAX
                              value: "2"
                            - name: MALLOC_TRIM_THRESHOLD_
                              valueFrom: {configMapKeyRef: {name: x, key: y}}
                            - name: TANDEM_DB_URL
                              value: "jdbc:postgresql://db/audit"
                """);
        // only literal MALLOC_* values: the rest of the environment is the suites' to set as configuration
        assertThat(ProductionJvm.malloc(root, "audit-service")).containsExactly(Map.entry("MALLOC_ARENA_MAX", "2"));

        var previous = System.getProperty("tandem.root");
        System.setProperty("tandem.root", root.toString());
        try {
            var audit = new ServiceProcess("audit-service", 19301, Map.of());
            assertThat(audit.environment()).containsExactly(Map.entry("MALLOC_ARENA_MAX", "2"));
            System.setProperty("tandem.service.malloc", "MALLOC_ARENA_MAX=4,MALLOC_TOP_PAD_=0");
            assertThat(audit.environment()).containsExactly(Map.entry("MALLOC_ARENA_MAX", "4"),
                    Map.entry("MALLOC_TOP_PAD_", "0"));
            System.setProperty("tandem.service.malloc", "none");
            assertThat(audit.environment()).isEmpty();
            System.setProperty("tandem.service.malloc", "JAVA_HOME=/x");
            assertThatThrownBy(audit::environment).hasMessageContaining("expected MALLOC_NAME=value");
        } finally {
            System.clearProperty("tandem.service.malloc");
            if (previous == null) {
                System.clearProperty("tandem.root");
            } else {
                System.setProperty("tandem.root", previous);
            }
        }
    }

    @Test
    void aManifestWithoutSettingsIsAnError(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("k8s/base"));
        Files.writeString(root.resolve("k8s/base/audit.yaml"), "apiVersion: apps/v1\nkind: Deployment\n");
        assertThatThrownBy(() -> ProductionJvm.options(root, "audit-service"))
                .hasMessageContaining("sets no JAVA_TOOL_OPTIONS");
    }
}
