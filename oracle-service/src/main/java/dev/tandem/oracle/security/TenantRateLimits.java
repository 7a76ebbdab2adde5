package dev.tandem.oracle.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.smallrye.faulttolerance.api.Guard;
import io.smallrye.faulttolerance.api.RateLimitType;

import java.time.Duration;
import java.time.temporal.ChronoUnit;

/**
 * One rolling-window rate limit per tenant (and limit), forgotten once the tenant has been idle for a whole window:
 * its permits have all left the window by then, so a new limit is the same limit. Kept for ever, they grew with every
 * tenant name a caller ever sent (any name, without client authentication): memory without bound.
 */
final class TenantRateLimits {

    private final Duration window;
    private final Cache<String, Guard> limits;

    TenantRateLimits(Duration window) {
        this(window, Ticker.systemTicker());
    }

    TenantRateLimits(Duration window, Ticker ticker) {
        this.window = window;
        this.limits = Caffeine.newBuilder().expireAfterAccess(window).ticker(ticker).build();
    }

    /** The tenant's limit of {@code permits} tasks per window. */
    Guard of(String tenant, int permits) {
        return limits.get(tenant + "/" + permits, k -> Guard.create()
                .withDescription("tasks of tenant '" + tenant + "'")
                .withRateLimit().limit(permits).window(window.toMillis(), ChronoUnit.MILLIS)
                .type(RateLimitType.ROLLING).done()
                .build());
    }

    /** How many tenants' limits are held (after dropping the idle ones). */
    long held() {
        limits.cleanUp();
        return limits.estimatedSize();
    }
}
