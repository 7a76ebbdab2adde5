package dev.tandem.router.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import dev.tandem.router.config.RouterConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TenantBudgetsTests {

    @TempDir
    Path dir;

    private long now = 1_000_000_000L;

    private TenantBudgets budgets(Optional<String> stateFile) {
        TenantBudgets b = new TenantBudgets(TestConfigs.router(Map.of(
                "tandem.router.tenants.acme.budget-usd", "1.00",
                "tandem.router.tenants.acme.window", "1h",
                "tandem.router.tenant-budget.state-file", stateFile.orElse(""))), new SimpleMeterRegistry());
        b.clock = () -> now;
        return b;
    }

    @Test
    void reservationsCountUntilSettledAndSpendLeavesTheWindow() {
        TenantBudgets b = budgets(Optional.empty());

        TenantBudgets.Reservation r = b.reserve("acme", 0.30);
        assertThat(b.budget("acme").orElseThrow().spentUsd()).isCloseTo(0.30, within(1e-12));
        b.settle(r, 0.25);
        Budget after = b.budget("acme").orElseThrow();
        assertThat(after.spentUsd()).isCloseTo(0.25, within(1e-12));
        assertThat(after.leftUsd()).isCloseTo(0.75, within(1e-12));
        assertThat(after.window()).isEqualTo(Duration.ofHours(1));
        assertThat(b.budget("other")).isEmpty();
        assertThat(b.reserve("other", 1)).isNull();

        now += Duration.ofMinutes(61).toMillis();
        assertThat(b.budget("acme").orElseThrow().spentUsd()).isZero();
    }

    @Test
    void tenantsWithoutSpendInTheirWindowAreForgottenWithTheirGaugesAndConfiguredOnesKept() {
        var registry = new SimpleMeterRegistry();
        TenantBudgets b = new TenantBudgets(TestConfigs.router(Map.of(
                "tandem.router.tenants.acme.budget-usd", "1.00",
                "tandem.router.tenant-budget.default-budget-usd", "0.50",
                "tandem.router.tenant-budget.default-window", "1h")), registry);
        b.clock = () -> now;
        for (int i = 0; i < 500; i++) {
            b.settle(b.reserve("made-up-" + i, 0.01), 0.01); // any tenant name a caller sends gets the default
        }
        b.budget("acme");
        TenantBudgets.Reservation inFlight = b.reserve("busy", 0.20);
        assertThat(b.tracked()).isEqualTo(502);

        b.forgetIdle();
        assertThat(b.tracked()).as("their spend is still in the window").isEqualTo(502);

        now += Duration.ofMinutes(61).toMillis();
        b.forgetIdle();

        assertThat(b.tracked()).as("the configured tenant and the one with a step in flight").isEqualTo(2);
        assertThat(registry.find("tandem.router.tenant.spend.usd").gauges()).hasSize(2);
        // a forgotten tenant starts again from nothing, a kept one settles as before
        assertThat(b.budget("made-up-7").orElseThrow().spentUsd()).isZero();
        b.settle(inFlight, 0.15);
        assertThat(b.budget("busy").orElseThrow().spentUsd()).isCloseTo(0.15, within(1e-12));
    }

    @Test
    void theStateFileKeepsSpendAcrossARestart() throws Exception {
        Path file = dir.resolve("spend.json");
        TenantBudgets first = budgets(Optional.of(file.toString()));
        first.settle(first.reserve("acme", 0.4), 0.4);
        first.save(file);
        assertThat(Files.exists(file)).isTrue();

        TenantBudgets second = budgets(Optional.of(file.toString()));
        second.restore(file);
        assertThat(second.budget("acme").orElseThrow().spentUsd()).isCloseTo(0.4, within(1e-12));
    }
}
