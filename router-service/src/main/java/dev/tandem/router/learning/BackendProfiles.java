package dev.tandem.router.learning;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.router.catalog.Backend;
import dev.tandem.router.config.RouterConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Live profile of every backend (model@pool): a recent window (p95, mean, error rate) for selection, and
 * Micrometer meters for dashboards: {@code tandem_router_backend_latency_seconds} (histogram),
 * {@code tandem_router_backend_errors_total} and {@code tandem_router_backend_error_ratio} (recent window).
 */
@ApplicationScoped
public class BackendProfiles {

    /** Live numbers of one backend. */
    public static final class Profile {
        final LatencyWindow window;
        final LongAdder successes = new LongAdder();
        final LongAdder failures = new LongAdder();
        final Timer okTimer;
        final Timer errorTimer;

        Profile(LatencyWindow window, Timer okTimer, Timer errorTimer) {
            this.window = window;
            this.okTimer = okTimer;
            this.errorTimer = errorTimer;
        }

        public double p95Millis() {
            return window.p95Millis();
        }

        public double meanOkMillis() {
            return window.meanOkMillis();
        }

        public double errorRate() {
            return window.errorRate();
        }

        public int samples() {
            return window.count();
        }

        public long successes() {
            return successes.sum();
        }

        public long failures() {
            return failures.sum();
        }
    }

    private final Map<String, Profile> profiles = new ConcurrentHashMap<>();
    private final MeterRegistry registry;
    private final int windowSize;
    private final int minSamples;

    @Inject
    public BackendProfiles(MeterRegistry registry, RouterConfig config) {
        this(registry, config.latency().window(), config.latency().minSamples());
    }

    public BackendProfiles(MeterRegistry registry, int windowSize, int minSamples) {
        this.registry = registry;
        this.windowSize = windowSize;
        this.minSamples = minSamples;
    }

    public Profile profile(Backend backend) {
        Profile p = profiles.get(backend.key());
        return p != null ? p : profiles.computeIfAbsent(backend.key(), k -> create(backend));
    }

    /** The profile if the backend was ever called, else null; never creates one (cheap for selection). */
    public Profile existing(Backend backend) {
        return profiles.get(backend.key());
    }

    public void recordSuccess(Backend backend, long nanos) {
        Profile p = profile(backend);
        p.window.record(nanos / 1_000_000d, true);
        p.successes.increment();
        p.okTimer.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A failed call: its time counts towards the latency window too, a slow failure is slow. */
    public void recordFailure(Backend backend, long nanos, String code) {
        Profile p = profile(backend);
        p.window.record(nanos / 1_000_000d, false);
        p.failures.increment();
        p.errorTimer.record(nanos, TimeUnit.NANOSECONDS);
        Counter.builder("tandem.router.backend.errors").description("Failed calls to a backend")
                .tags("model", backend.model().id(), "pool", backend.pool().id(), "code", code)
                .register(registry).increment();
    }

    private Profile create(Backend backend) {
        Profile p = new Profile(new LatencyWindow(windowSize, minSamples), timer(backend, "ok"),
                timer(backend, "error"));
        Gauge.builder("tandem.router.backend.error.ratio", p, Profile::errorRate)
                .description("Share of the backend's recent calls that failed (window of tandem.router.latency.window)")
                .tags("model", backend.model().id(), "pool", backend.pool().id()).register(registry);
        return p;
    }

    private Timer timer(Backend backend, String outcome) {
        return Timer.builder("tandem.router.backend.latency").description("Latency of calls to a backend")
                .tags("model", backend.model().id(), "pool", backend.pool().id(), "outcome", outcome)
                .publishPercentileHistogram().register(registry);
    }
}
