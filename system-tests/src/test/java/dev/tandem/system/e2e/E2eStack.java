package dev.tandem.system.e2e;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.tandem.system.launch.E2eConfig;
import dev.tandem.system.launch.ServiceProcess;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The four services of the end-to-end suites, started once per run and shared by its classes: audit, worker and
 * router on a fresh ledger ({@code TANDEM_E2E_DB}), an oracle on the same database, every one tracing to a stand-in
 * OpenTelemetry collector. {@link TandemEndToEndIT} runs first on the fresh ledger (class order 2, after the fault
 * suite, which starts services of its own); then {@link SubmittedTaskRestartIT} starts an oracle of its own against
 * the same router and audit service and kills it, with its task store in a database of its own so that the stack's
 * oracle does not take its tasks.
 * <p>
 * Why shared: starting four JVMs side by side takes about as long as a class's tests (about 12 s of the 35 s each
 * class took with a stack of its own); a second oracle starts in about 4 s. The stack is closed once, when the run's
 * last class is done (JUnit's root store closes it), not after each class.
 */
final class E2eStack implements AutoCloseable {

    /** A database of its own, dropped and created per run; TANDEM_E2E_DB lets parallel checkouts use their own. */
    static final String DB = System.getenv().getOrDefault("TANDEM_E2E_DB", "tandem_e2e");
    static final String PG = "jdbc:postgresql://127.0.0.1:5432/";

    private static volatile E2eStack current;

    final ServiceProcess audit;
    final ServiceProcess worker;
    final ServiceProcess router;
    final ServiceProcess oracle;
    /** Stands in for an OpenTelemetry collector: takes the services' OTLP/HTTP trace exports. */
    final WireMockServer collector;

    private E2eStack(WireMockServer collector, ServiceProcess audit, ServiceProcess worker, ServiceProcess router,
                     ServiceProcess oracle) {
        this.collector = collector;
        this.audit = audit;
        this.worker = worker;
        this.router = router;
        this.oracle = oracle;
    }

    /** The stack of this run; {@link Shared} starts it before the first class that uses it. */
    static E2eStack current() {
        if (current == null) {
            throw new IllegalStateException(
                    "no end-to-end stack: annotate the class @ExtendWith(E2eStack.Shared.class)");
        }
        return current;
    }

    private static E2eStack start() {
        WireMockServer collector = null;
        ServiceProcess audit = null;
        ServiceProcess worker = null;
        ServiceProcess router = null;
        ServiceProcess oracle = null;
        try {
            ServiceProcess.freshDatabase(PG, DB);
            int auditPort = ServiceProcess.freePort();
            int workerPort = ServiceProcess.freePort();
            int routerPort = ServiceProcess.freePort();
            int oraclePort = ServiceProcess.freePort();

            collector = new WireMockServer(options().dynamicPort());
            collector.start();
            collector.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200)
                    .withHeader("Content-Type", "application/x-protobuf")));

            audit = new ServiceProcess("audit-service", auditPort,
                    traced(E2eConfig.audit(PG + DB, routerPort), collector));
            worker = new ServiceProcess("worker-service", workerPort, traced(E2eConfig.worker(), collector));
            router = new ServiceProcess("router-service", routerPort,
                    traced(E2eConfig.router(workerPort, auditPort), collector));
            oracle = new ServiceProcess("oracle-service", oraclePort,
                    traced(E2eConfig.oracle(PG + DB, routerPort, auditPort), collector));
            ServiceProcess.startAll(Duration.ofSeconds(90), audit, worker, router, oracle);
            return new E2eStack(collector, audit, worker, router, oracle);
        } catch (Exception e) {
            stop(collector, oracle, router, worker, audit);
            throw new IllegalStateException("the end-to-end stack did not start: " + e.getMessage(), e);
        }
    }

    /** Tracing on, as the k8s tracing component turns it on, exporting to the stand-in collector. */
    private static Map<String, String> traced(Map<String, String> config, WireMockServer collector) {
        var c = new LinkedHashMap<>(config);
        c.put("quarkus.otel.sdk.disabled", "false");
        c.put("quarkus.otel.exporter.otlp.traces.protocol", "http/protobuf");
        c.put("quarkus.otel.exporter.otlp.traces.endpoint", collector.baseUrl());
        c.put("quarkus.otel.exporter.otlp.traces.compression", "none");
        c.put("quarkus.otel.bsp.schedule.delay", "200ms");
        return c;
    }

    /** The router's port, for a second oracle of the same stack. */
    int routerPort() {
        return router.port;
    }

    /** The audit service's port, for a second oracle of the same stack. */
    int auditPort() {
        return audit.port;
    }

    @Override
    public void close() {
        stop(collector, oracle, router, worker, audit);
        current = null;
    }

    /** Callers first, then the collector they export to; whatever a failed start left unset is skipped. */
    private static void stop(WireMockServer collector, ServiceProcess... services) {
        try {
            ServiceProcess.closeAll(services);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (collector != null) {
                collector.stop();
            }
        }
    }

    /**
     * Starts the stack before the first class annotated with it and keeps it in the root store, which JUnit closes
     * after the run's last class.
     */
    static final class Shared implements BeforeAllCallback {

        private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(E2eStack.class);

        @Override
        public void beforeAll(ExtensionContext context) {
            current = context.getRoot().getStore(NAMESPACE)
                    .computeIfAbsent(E2eStack.class, k -> start(), E2eStack.class);
        }
    }
}
