package dev.tandem.system.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.system.launch.MetricsText;
import dev.tandem.system.launch.ServiceProcess;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/**
 * The four services as separate processes from their built jars (audit on a fresh PostgreSQL database, worker with
 * the benchmark's replay models, router with the benchmark's catalog, oracle), wired together like a deployment.
 */
final class BenchStack implements AutoCloseable {

    final ServiceProcess audit;
    final ServiceProcess worker;
    final ServiceProcess router;
    final ServiceProcess oracle;
    private final ManagedChannel routerChannel;
    private final ManagedChannel oracleChannel;

    private BenchStack(ServiceProcess audit, ServiceProcess worker, ServiceProcess router, ServiceProcess oracle) {
        this.audit = audit;
        this.worker = worker;
        this.router = router;
        this.oracle = oracle;
        this.routerChannel = ManagedChannelBuilder.forAddress("127.0.0.1", router.port).usePlaintext().build();
        this.oracleChannel = ManagedChannelBuilder.forAddress("127.0.0.1", oracle.port).usePlaintext().build();
    }

    /**
     * Starts the stack.
     *
     * @param workerProperties the benchmark's worker configuration (its replay models)
     * @param routerProperties the benchmark's router configuration (catalog, policy, thresholds)
     * @param auditProperties  audit policy settings for this run
     */
    static BenchStack start(Map<String, String> workerProperties, String database,
                            Map<String, String> routerProperties,
                            Map<String, String> auditProperties, Path logs) throws Exception {
        return start(workerProperties, database, routerProperties, auditProperties, logs, true);
    }

    /**
     * Starts the stack; with {@code routerAudited} false the router is not connected to the audit service: it learns
     * nothing from it and prices no reviews, as for dispatches that no audit ever decides on (routing alone).
     */
    static BenchStack start(Map<String, String> workerProperties, String database,
                            Map<String, String> routerProperties, Map<String, String> auditProperties, Path logs,
                            boolean routerAudited) throws Exception {
        ServiceProcess.freshDatabase("jdbc:postgresql://127.0.0.1:5432/", database);
        int auditPort = ServiceProcess.freePort();
        int workerPort = ServiceProcess.freePort();
        int routerPort = ServiceProcess.freePort();
        int oraclePort = ServiceProcess.freePort();
        Map<String, String> a = new LinkedHashMap<>();
        a.put("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/" + database);
        a.put("quarkus.datasource.username", "postgres");
        a.put("quarkus.log.console.level", "WARN");
        // the shadow reviewer's sampled reviews go through this stack's router; before 2026-12-07 16:00 UTC they went
        // to the default address (localhost:8081), where nothing of the stack listens, and all failed
        a.put("quarkus.grpc.clients.router.host", "localhost");
        a.put("quarkus.grpc.clients.router.port", String.valueOf(routerPort));
        a.putAll(auditProperties);
        // heaps above the manifests': a stream of 1,300 tasks keeps more learned state than a production replica needs
        ServiceProcess audit = new ServiceProcess("audit-service", auditPort, a).heap("384m").logDir(logs);

        Map<String, String> w = new LinkedHashMap<>(workerProperties);
        w.put("quarkus.log.console.level", "WARN");
        ServiceProcess worker = new ServiceProcess("worker-service", workerPort, w).heap("768m").logDir(logs);

        Map<String, String> r = new LinkedHashMap<>(routerProperties);
        r.put("tandem.router.pools.local.endpoint", "localhost:" + workerPort);
        if (routerAudited) {
            r.put("quarkus.grpc.clients.audit.host", "localhost");
            r.put("quarkus.grpc.clients.audit.port", String.valueOf(auditPort));
        }
        r.put("quarkus.log.console.level", "WARN");
        ServiceProcess router = new ServiceProcess("router-service", routerPort, r).heap("768m").logDir(logs);

        Map<String, String> o = new LinkedHashMap<>();
        o.put("quarkus.grpc.clients.router.host", "localhost");
        o.put("quarkus.grpc.clients.router.port", String.valueOf(routerPort));
        o.put("quarkus.grpc.clients.audit.host", "localhost");
        o.put("quarkus.grpc.clients.audit.port", String.valueOf(auditPort));
        // submitted tasks are stored next to the audit ledger (the oracle's own schema)
        o.put("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/" + database);
        o.put("quarkus.datasource.username", "postgres");
        o.put("tandem.oracle.oracle-model", routerProperties.get("tandem.router.oracle-model"));
        o.put("tandem.oracle.downstream-timeout", "60s");
        o.put("tandem.oracle.tasks.retained", "50");
        // no per-tenant task rate limit: a stream of replayed answers runs faster than the default 1,200 tasks a
        // minute once a worker is trusted, and a refused task would be measured as a wrong, free answer
        o.put("tandem.oracle.limits.tasks-per-window", "0");
        o.put("quarkus.log.console.level", "WARN");
        ServiceProcess oracle = new ServiceProcess("oracle-service", oraclePort, o).heap("512m").logDir(logs);

        List<ServiceProcess> all = List.of(audit, worker, router, oracle);
        try {
            for (ServiceProcess p : all) {
                p.start();
            }
            for (ServiceProcess p : all) {
                p.awaitReady(Duration.ofMinutes(3));
            }
        } catch (Exception e) {
            for (ServiceProcess p : all) {
                p.close();
            }
            throw e;
        }
        return new BenchStack(audit, worker, router, oracle);
    }

    RouterServiceGrpc.RouterServiceBlockingStub router() {
        return RouterServiceGrpc.newBlockingStub(routerChannel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    OracleServiceGrpc.OracleServiceBlockingStub oracle() {
        return OracleServiceGrpc.newBlockingStub(oracleChannel).withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    /** Total spend the router priced (dispatches and reviews, shadow ones included), from its Prometheus counters. */
    double routerSpendUsd() throws IOException, InterruptedException {
        return MetricsText.sum(router.get("/q/metrics"), "tandem_router_cost_usd_total", "");
    }

    /** Spend once it has stopped moving: shadow reviews finish after their answers. */
    double settledSpendUsd() throws IOException, InterruptedException {
        double last = routerSpendUsd();
        for (int stable = 0, i = 0; stable < 3 && i < 120; i++) {
            Thread.sleep(1000);
            double now = routerSpendUsd();
            stable = now == last ? stable + 1 : 0;
            last = now;
        }
        return last;
    }

    @Override
    public void close() throws InterruptedException {
        routerChannel.shutdownNow();
        oracleChannel.shutdownNow();
        for (ServiceProcess p : List.of(oracle, router, worker, audit)) {
            p.close();
        }
    }
}
