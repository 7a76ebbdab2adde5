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
    void aManifestWithoutSettingsIsAnError(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("k8s/base"));
        Files.writeString(root.resolve("k8s/base/audit.yaml"), "apiVersion: apps/v1\nkind: Deployment\n");
        assertThatThrownBy(() -> ProductionJvm.options(root, "audit-service"))
                .hasMessageContaining("sets no JAVA_TOOL_OPTIONS");
    }
}
