package dev.tandem.router.dispatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.router.catalog.Backend;
import dev.tandem.router.selection.Selection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counters of routing decisions and their consequences (Prometheus names in the README). Each counter is registered
 * once per tag combination and kept: registering it again on every dispatch rebuilt and sorted its tags and looked
 * it up in the registry, on the hot path of every step.
 */
@ApplicationScoped
public class RouterMetrics {

    private final MeterRegistry registry;
    private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();

    public RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The counter {@code name} with the given tag keys and values, registered on first use. */
    Counter counter(String name, String description, String... tags) {
        var key = new ArrayList<String>(tags.length + 1);
        key.add(name);
        key.addAll(Arrays.asList(tags));
        Counter counter = counters.get(key);
        return counter != null ? counter : counters.computeIfAbsent(List.copyOf(key),
                k -> Counter.builder(name).description(description).tags(tags).register(registry));
    }

    /** {@code tandem_router_decisions_total{worker_type,model,tier,policy}}. */
    public void decision(String workerType, Backend chosen, String policy) {
        counter("tandem.router.decisions", "Routing decisions by chosen model", "worker_type", workerType, "model",
                chosen.model().id(), "tier", chosen.model().tier().name(), "policy", policy).increment();
    }

    /** {@code tandem_router_exploration_total{worker_type,model}}. */
    public void exploration(String workerType, Backend chosen) {
        counter("tandem.router.exploration", "Dispatches sent to a model to explore it", "worker_type", workerType,
                "model", chosen.model().id()).increment();
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
        counter("tandem.router.trust.routing", "Dispatches by how the exploration budget chose", "worker_type",
                workerType, "choice", choice).increment();
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
        counter("tandem.router.cascade", "Cascade climbs to a more capable tier", "worker_type", workerType,
                "from_tier", fromTier, "to_tier", toTier, "reason", reason).increment();
    }

    /** {@code tandem_router_load_shed_total{worker_type,reason}}. */
    public void loadShed(String workerType, String reason) {
        counter("tandem.router.load.shed", "Steps refused with RESOURCE_EXHAUSTED", "worker_type", workerType,
                "reason", reason).increment();
    }

    /** {@code tandem_router_budget_rejections_total{budget,outcome}}: outcome downgraded or rejected. */
    public void budget(String kind, String outcome) {
        counter("tandem.router.budget.rejections",
                "Choices a budget changed (downgraded to the cheapest qualifying) or refused", "budget", kind,
                "outcome", outcome).increment();
    }

    /** {@code tandem_router_cost_usd_total{worker_type,model,kind}} and the oracle baseline of dispatches. */
    public void cost(String workerType, String model, String kind, double usd) {
        if (usd > 0) {
            counter("tandem.router.cost.usd", "Spend on model calls, in USD", "worker_type", workerType, "model",
                    model, "kind", kind).increment(usd);
        }
    }

    /** {@code tandem_router_oracle_baseline_usd_total{worker_type}}. */
    public void oracleBaseline(String workerType, double usd) {
        if (usd > 0) {
            counter("tandem.router.oracle.baseline.usd",
                    "What the dispatched steps' usage would have cost on the oracle model, in USD", "worker_type",
                    workerType).increment(usd);
        }
    }
}
