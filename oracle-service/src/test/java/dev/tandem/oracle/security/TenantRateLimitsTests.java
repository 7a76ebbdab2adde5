package dev.tandem.oracle.security;

import com.github.benmanes.caffeine.cache.Ticker;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.faulttolerance.api.RateLimitException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Each tenant's rate limit holds within its window, and the limits of idle tenants are not kept for ever. A Quarkus
 * test for SmallRye Fault Tolerance's programmatic guards, which need the running application.
 */
@QuarkusTest
class TenantRateLimitsTests {

    final AtomicLong nanos = new AtomicLong();
    final Ticker ticker = nanos::get;

    @Test
    void theLimitsOfTenantsIdleForAWholeWindowAreForgotten() {
        var limits = new TenantRateLimits(Duration.ofMinutes(1), ticker);
        for (int i = 0; i < 1_000; i++) {
            limits.of("tenant-" + i, 10); // any name a caller sends, without client authentication
        }
        assertThat(limits.held()).isEqualTo(1_000);

        nanos.addAndGet(Duration.ofSeconds(30).toNanos());
        limits.of("tenant-7", 10); // still active
        nanos.addAndGet(Duration.ofSeconds(31).toNanos());

        assertThat(limits.held()).as("only the tenant active within the last window").isEqualTo(1);
    }

    @Test
    void withinItsWindowATenantKeepsItsLimitAndItsUsedPermits() throws Exception {
        var limits = new TenantRateLimits(Duration.ofMinutes(10), ticker);
        limits.of("acme", 2).get(() -> true, Boolean.class);
        nanos.addAndGet(Duration.ofMinutes(5).toNanos());
        limits.of("acme", 2).get(() -> true, Boolean.class);

        assertThatThrownBy(() -> limits.of("acme", 2).get(() -> true, Boolean.class))
                .isInstanceOf(RateLimitException.class);
        // another tenant has its own limit
        assertThat(limits.of("globex", 2).get(() -> true, Boolean.class)).isTrue();
    }
}
