package dev.tandem.router.dispatch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.router.catalog.Backend;
import dev.tandem.router.selection.Selection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** Counters of routing decisions and their consequences (Prometheus names in the README). */
@ApplicationScoped
public class RouterMetrics {

    private final MeterRegistry registry;

    public RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** {@code tandem_router_decisions_total{worker_type,model,tier,policy}}. */
    public void decision(String workerType, Backend chosen, String policy) {
        Counter.builder("tandem.router.decisions").description("Routing decisions by chosen model")
                .tags("worker_type", workerType, "model", chosen.model().id(), "tier", chosen.model().tier().name(),
                        "policy", policy)
                .register(registry).increment();
    }

    /** {@code tandem_router_exploration_total{worker_type,model}}. */
    public void exploration(String workerType, Backend chosen) {
        Counter.builder("tandem.router.exploration").description("Dispatches sent to a model to explore it")
                .tags("worker_type", workerType, "model", chosen.model().id()).register(registry).increment();
    }

    /**
     * {@code tandem_router_trust_routing_total{worker_type,choice}}: how the exploration budget shaped a dispatch:
     * {@code earning_trust} (a stream in probation got the step), {@code oracle_direct}, {@code worker} (a trusted or
     * unaudited worker), and {@code tandem_router_exploration_window_overspend_ratio{worker_type}}, the last
     * decision's window spend over oracle-direct as a share of its all-oracle cost.
     */
    public void trustRouting(String workerType, Selection selection) {
        String choice = selection.earningTrust() ? "earning_trust"
                : selection.best().oracleDirect() ? "oracle_direct" : "worker";
        Counter.builder("tandem.router.trust.routing").description("Dispatches by how the exploration budget chose")
                .tags("worker_type", workerType, "choice", choice).register(registry).increment();
        overspend.computeIfAbsent(workerType, w -> {
            AtomicLong bits = new AtomicLong();
            Gauge.builder("tandem.router.exploration.window.overspend.ratio", bits,
                            b -> Double.longBitsToDouble(b.get()))
                    .description("Spend over oracle-direct in the worker type's exploration window, as a share of "
                            + "its all-oracle cost (the budget's limit is tandem.router.exploration-budget.share)")
                    .tags("worker_type", w).register(registry);
            return bits;
        }).set(Double.doubleToLongBits(selection.windowOverspendFraction()));
    }

    private final Map<String, AtomicLong> overspend = new ConcurrentHashMap<>();

    /** {@code tandem_router_cascade_total{worker_type,from_tier,to_tier,reason}}. */
    public void cascade(String workerType, String fromTier, String toTier, String reason) {
        Counter.builder("tandem.router.cascade").description("Cascade climbs to a more capable tier")
                .tags("worker_type", workerType, "from_tier", fromTier, "to_tier", toTier, "reason", reason)
                .register(registry).increment();
    }

    /** {@code tandem_router_load_shed_total{worker_type,reason}}. */
    public void loadShed(String workerType, String reason) {
        Counter.builder("tandem.router.load.shed").description("Steps refused with RESOURCE_EXHAUSTED")
                .tags("worker_type", workerType, "reason", reason).register(registry).increment();
    }

    /** {@code tandem_router_budget_rejections_total{budget,outcome}}: outcome downgraded or rejected. */
    public void budget(String kind, String outcome) {
        Counter.builder("tandem.router.budget.rejections")
                .description("Choices a budget changed (downgraded to the cheapest qualifying) or refused")
                .tags("budget", kind, "outcome", outcome).register(registry).increment();
    }

    /** {@code tandem_router_cost_usd_total{worker_type,model,kind}} and the oracle baseline of dispatches. */
    public void cost(String workerType, String model, String kind, double usd) {
        if (usd > 0) {
            Counter.builder("tandem.router.cost.usd").description("Spend on model calls, in USD")
                    .tags("worker_type", workerType, "model", model, "kind", kind).register(registry).increment(usd);
        }
    }

    /** {@code tandem_router_oracle_baseline_usd_total{worker_type}}. */
    public void oracleBaseline(String workerType, double usd) {
        if (usd > 0) {
            Counter.builder("tandem.router.oracle.baseline.usd")
                    .description("What the dispatched steps' usage would have cost on the oracle model, in USD")
                    .tags("worker_type", workerType).register(registry).increment(usd);
        }
    }
}
