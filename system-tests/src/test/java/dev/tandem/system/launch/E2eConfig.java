package dev.tandem.system.launch;

import java.util.LinkedHashMap;
import java.util.Map;

/** The configuration each service gets in the end-to-end suite: ports wired together, a fresh database. */
public final class E2eConfig {

    private E2eConfig() {
    }

    /** The audit service's shadow reviews go to the router. */
    public static Map<String, String> audit(String jdbcUrl, int routerPort) {
        var p = audit(jdbcUrl);
        p.put("quarkus.grpc.clients.router.host", "localhost");
        p.put("quarkus.grpc.clients.router.port", String.valueOf(routerPort));
        return p;
    }

    public static Map<String, String> audit(String jdbcUrl) {
        var p = new LinkedHashMap<String, String>();
        p.put("quarkus.datasource.jdbc.url", jdbcUrl);
        p.put("quarkus.datasource.username", "postgres");
        // Trust after 10 clean reviews (95 % upper bound 1 - 0.05^(1/11) = 23.8 % <= 25 %) instead of 148, so
        // the suite sees streams leave probation in a few tasks.
        p.put("tandem.audit.trust.target-error-rate", "0.25");
        p.put("tandem.audit.target.outgoing-error-rate", "0.25");
        return p;
    }

    public static Map<String, String> worker() {
        return new LinkedHashMap<>();
    }

    public static Map<String, String> router(int workerPort, int auditPort) {
        var p = new LinkedHashMap<String, String>();
        p.put("tandem.router.pools.local.endpoint", "localhost:" + workerPort);
        p.put("quarkus.grpc.clients.audit.host", "localhost");
        p.put("quarkus.grpc.clients.audit.port", String.valueOf(auditPort));
        // the suite moves streams through trust states in seconds; the router reprices reviews as often
        p.put("tandem.router.audit.poll-interval", "1s");
        // A window of 100 steps: the embedded oracle's review of a classify step costs up to about twice the step's
        // oracle price, more than a 20-step window of oracle-only steps can absorb at 5 % (router README, *Expected
        // cost and the exploration budget*, the known limit); the first task's bound (Order 2) holds for any window.
        p.put("tandem.router.exploration-budget.window-steps", "100");
        return p;
    }

    /** The oracle stores submitted tasks in the same database as the audit ledger (its own schema). */
    public static Map<String, String> oracle(String jdbcUrl, int routerPort, int auditPort) {
        var p = new LinkedHashMap<String, String>();
        p.put("quarkus.datasource.jdbc.url", jdbcUrl);
        p.put("quarkus.datasource.username", "postgres");
        p.put("quarkus.grpc.clients.router.host", "localhost");
        p.put("quarkus.grpc.clients.router.port", String.valueOf(routerPort));
        p.put("quarkus.grpc.clients.audit.host", "localhost");
        p.put("quarkus.grpc.clients.audit.port", String.valueOf(auditPort));
        return p;
    }
}
