package dev.tandem.router.budget;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.router.config.RouterConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import org.jboss.logging.Logger;

/**
 * What each tenant spent over its budget window, and the limit it is checked against. The window slides in 60
 * buckets (a 24 h window forgets spend in 24 min steps). A step's estimate is reserved when it is routed and
 * replaced by its actual cost when it finishes, so concurrent steps cannot overshoot a limit together.
 * <p>
 * The spend lives in this router replica's memory. With {@code tenant-budget.state-file} set it is saved every
 * {@code tenant-budget.save-interval} and at shutdown and restored at start, so a restart keeps it (at most one
 * interval of spend is lost on a crash); without it a restart starts every window at zero. Each replica enforces
 * the limit on its own traffic: with N replicas give each limit / N.
 */
@ApplicationScoped
public class TenantBudgets {

    private static final Logger LOG = Logger.getLogger(TenantBudgets.class);
    private static final int BUCKETS = 60;

    /** Spend of one tenant: a ring of buckets over its window, plus what in-flight steps reserved. */
    static final class Ledger {
        final long bucketMillis;
        final long[] bucketStart = new long[BUCKETS];
        final double[] amount = new double[BUCKETS];
        double reserved;
        /** Forgotten as idle ({@link #forgetIdle}): work finding it takes the tenant's new ledger instead. */
        boolean retired;

        Ledger(Duration window) {
            this.bucketMillis = Math.max(1, window.toMillis() / BUCKETS);
        }

        synchronized void add(long now, double usd) {
            long start = now - now % bucketMillis;
            int i = (int) ((start / bucketMillis) % BUCKETS);
            if (bucketStart[i] != start) {
                bucketStart[i] = start;
                amount[i] = 0;
            }
            amount[i] += usd;
        }

        synchronized double spent(long now) {
            long horizon = now - bucketMillis * BUCKETS;
            double sum = 0;
            for (int i = 0; i < BUCKETS; i++) {
                if (bucketStart[i] > horizon) {
                    sum += amount[i];
                }
            }
            return sum;
        }
    }

    /** A reserved estimate, settled with the actual cost when the step finishes. */
    public record Reservation(String tenant, double estimateUsd) {
    }

    /** Saved form of one tenant's buckets. */
    record SavedLedger(long bucketMillis, long[] bucketStart, double[] amount) {
    }

    private final Map<String, Ledger> ledgers = new ConcurrentHashMap<>();
    /** Each ledger's gauges, removed with it. */
    private final Map<String, List<Meter>> gauges = new ConcurrentHashMap<>();
    private final ObjectMapper json = new ObjectMapper();

    private final RouterConfig config;

    private final MeterRegistry registry;

    public TenantBudgets(RouterConfig config, MeterRegistry registry) {
        this.config = config;
        this.registry = registry;
    }

    LongSupplier clock = System::currentTimeMillis;

    void onStart(@Observes StartupEvent event) {
        config.tenantBudget().stateFile().ifPresent(file -> restore(Path.of(file)));
    }

    /** The tenant's budget as it stands now (spend and reservations included); empty when it has no limit. */
    public Optional<Budget> budget(String tenant) {
        Optional<RouterConfig.TenantConfig> limit = limit(tenant);
        if (tenant == null || tenant.isEmpty() || (limit.isEmpty() && config.tenantBudget().defaultBudgetUsd().isEmpty())) {
            return Optional.empty();
        }
        double usd = limit.map(RouterConfig.TenantConfig::budgetUsd)
                .orElseGet(() -> config.tenantBudget().defaultBudgetUsd().orElseThrow());
        Duration window = window(tenant);
        double spent = onLedger(tenant, l -> l.spent(clock.getAsLong()) + l.reserved);
        return Optional.of(Budget.tenant(tenant, usd, spent, window));
    }

    /** Reserves a routed step's estimate against the tenant's window; null when the tenant has no limit. */
    public Reservation reserve(String tenant, double estimateUsd) {
        if (budget(tenant).isEmpty()) {
            return null;
        }
        onLedger(tenant, l -> l.reserved += estimateUsd);
        return new Reservation(tenant, estimateUsd);
    }

    /** Replaces a reservation by what the step actually cost (0 when it failed without cost). */
    public void settle(Reservation reservation, double actualUsd) {
        if (reservation == null) {
            return;
        }
        onLedger(reservation.tenant(), l -> {
            l.reserved = Math.max(0, l.reserved - reservation.estimateUsd());
            if (actualUsd > 0) {
                l.add(clock.getAsLong(), actualUsd);
            }
            return null;
        });
    }

    /** Adds spend that was not reserved (reviews count toward the tenant's spend but are never refused). */
    public void charge(String tenant, double usd) {
        if (usd > 0 && budget(tenant).isPresent()) {
            onLedger(tenant, l -> {
                l.add(clock.getAsLong(), usd);
                return null;
            });
        }
    }

    /** Spend per tenant in its current window (reservations included). */
    public Map<String, Budget> snapshot() {
        Map<String, Budget> out = new HashMap<>();
        for (String tenant : ledgers.keySet()) {
            budget(tenant).ifPresent(b -> out.put(tenant, b));
        }
        config.tenants().keySet().forEach(t -> budget(t).ifPresent(b -> out.put(t, b)));
        return out;
    }

    private Optional<RouterConfig.TenantConfig> limit(String tenant) {
        return tenant == null ? Optional.empty() : Optional.ofNullable(config.tenants().get(tenant));
    }

    private Duration window(String tenant) {
        return limit(tenant).flatMap(RouterConfig.TenantConfig::window).orElse(config.tenantBudget().defaultWindow());
    }

    /** Runs {@code work} on the tenant's current ledger, under its lock. */
    private <T> T onLedger(String tenant, Function<Ledger, T> work) {
        while (true) {
            Ledger l = ledger(tenant);
            synchronized (l) {
                if (!l.retired) {
                    return work.apply(l);
                }
            }
        }
    }

    private Ledger ledger(String tenant) {
        Ledger l = ledgers.get(tenant);
        return l != null ? l : ledgers.computeIfAbsent(tenant, t -> {
            Ledger ledger = new Ledger(window(t));
            gauges.put(t, List.of(Gauge.builder("tandem.router.tenant.spend.usd", this,
                            b -> b.budget(t).map(Budget::spentUsd).orElse(0d))
                    .description("What the tenant spent in its budget window (reservations of in-flight steps included)")
                    .tag("tenant", t).register(registry),
                    Gauge.builder("tandem.router.tenant.budget.usd", this,
                            b -> b.budget(t).map(Budget::limitUsd).orElse(0d))
                    .description("The tenant's budget per window").tag("tenant", t).register(registry)));
            return ledger;
        });
    }

    /**
     * Forgets the tenants without spend in their window and nothing reserved, with their gauges: with a default
     * budget every tenant name a caller ever sent got a ledger and two gauges for good. A forgotten tenant's next
     * step starts a new ledger, as its window had nothing in it; configured tenants are kept.
     */
    @Scheduled(identity = "tenant-budget-forget", every = "1m", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void forgetIdle() {
        long now = clock.getAsLong();
        for (var entry : ledgers.entrySet()) {
            String tenant = entry.getKey();
            Ledger l = entry.getValue();
            if (config.tenants().containsKey(tenant)) {
                continue;
            }
            synchronized (l) {
                if (l.reserved > 0 || l.spent(now) > 0) {
                    continue;
                }
                l.retired = true;
                // the gauges first: a new ledger for the tenant, once this one is gone, registers its own
                List<Meter> meters = gauges.remove(tenant);
                if (meters != null) {
                    meters.forEach(registry::remove);
                }
                ledgers.remove(tenant, l);
            }
        }
    }

    /** How many tenants have a ledger (tests). */
    int tracked() {
        return ledgers.size();
    }

    @Scheduled(identity = "tenant-budget-save", every = "${tandem.router.tenant-budget.save-interval}",
            delayed = "10s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void periodicSave() {
        config.tenantBudget().stateFile().ifPresent(file -> save(Path.of(file)));
    }

    @PreDestroy
    void shutdown() {
        config.tenantBudget().stateFile().ifPresent(file -> save(Path.of(file)));
    }

    synchronized void save(Path file) {
        Map<String, SavedLedger> out = new HashMap<>();
        ledgers.forEach((tenant, l) -> {
            synchronized (l) {
                out.put(tenant, new SavedLedger(l.bucketMillis, l.bucketStart.clone(), l.amount.clone()));
            }
        });
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            json.writeValue(tmp.toFile(), out);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warnf("could not save tenant spend to %s: %s", file, e.toString());
        }
    }

    void restore(Path file) {
        if (!Files.isRegularFile(file)) {
            LOG.infof("no saved tenant spend at %s: every window starts at zero", file);
            return;
        }
        try {
            Map<String, SavedLedger> saved = json.readValue(file.toFile(),
                    json.getTypeFactory().constructMapType(Map.class, String.class, SavedLedger.class));
            long now = clock.getAsLong();
            saved.forEach((tenant, s) -> {
                Ledger l = ledger(tenant);
                synchronized (l) {
                    for (int i = 0; i < Math.min(BUCKETS, s.bucketStart().length); i++) {
                        if (s.bucketStart()[i] > now - l.bucketMillis * BUCKETS && s.amount()[i] > 0) {
                            l.add(s.bucketStart()[i], s.amount()[i]);
                        }
                    }
                }
            });
            LOG.infof("restored the spend of %d tenants from %s", saved.size(), file);
        } catch (IOException e) {
            LOG.warnf("could not read saved tenant spend %s (%s): every window starts at zero", file, e.toString());
        }
    }
}
