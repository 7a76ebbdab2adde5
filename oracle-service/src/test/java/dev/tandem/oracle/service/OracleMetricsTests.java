package dev.tandem.oracle.service;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The oracle's meters are registered once per tag combination and then reused: what they count must be what the
 * per-call registration counted, each combination its own series.
 */
class OracleMetricsTests {

    @Test
    void eachTagCombinationIsOneSeriesThatKeepsCounting() {
        var registry = new SimpleMeterRegistry();
        var metrics = new OracleMetrics(registry);
        metrics.gauges();

        metrics.taskStarted();
        metrics.taskEnded("ok", "math", Duration.ofMillis(10));
        metrics.taskStarted();
        metrics.taskEnded("ok", "math", Duration.ofMillis(30));
        metrics.taskStarted();
        metrics.taskEnded("failed", "math", Duration.ofMillis(5));
        metrics.step("classify", false, Duration.ofMillis(4));
        metrics.step("classify", true, Duration.ofMillis(6));
        metrics.review("classify", "blocking", "rejected");
        metrics.review("classify", "blocking", "rejected");
        metrics.review("classify", "blocking", "accepted");
        metrics.cost("math", 0.25, 1.0);
        metrics.cost("math", 0.5, 1.0);
        metrics.taskByClass("interactive", "ok");

        var ok = registry.get("tandem.oracle.tasks").tags("outcome", "ok", "pipeline", "math").timer();
        assertThat(ok.count()).isEqualTo(2);
        assertThat(ok.totalTime(java.util.concurrent.TimeUnit.MILLISECONDS)).isEqualTo(40);
        assertThat(registry.get("tandem.oracle.tasks").tags("outcome", "failed").timer().count()).isEqualTo(1);
        assertThat(registry.get("tandem.oracle.steps").tags("escalated", "true").timer().count()).isEqualTo(1);
        assertThat(registry.get("tandem.oracle.steps").tags("escalated", "false").timer().count()).isEqualTo(1);
        assertThat(registry.get("tandem.oracle.reviews").tags("verdict", "rejected").counter().count()).isEqualTo(2);
        assertThat(registry.get("tandem.oracle.reviews").tags("verdict", "accepted").counter().count()).isEqualTo(1);
        assertThat(registry.get("tandem.oracle.cost.actual").tags("pipeline", "math").counter().count())
                .isEqualTo(0.75);
        assertThat(registry.get("tandem.oracle.cost.all_oracle").counter().count()).isEqualTo(2.0);
        assertThat(registry.get("tandem.oracle.tasks_by_class").tags("latency_class", "interactive", "outcome", "ok")
                .counter().count()).isEqualTo(1);
        assertThat(registry.get("tandem.oracle.tasks.in_flight").gauge().value()).isZero();
    }

    @Test
    void theSameNameWithOtherTagKeysIsAnotherSeries() {
        var registry = new SimpleMeterRegistry();
        var metrics = new OracleMetrics(registry);

        metrics.counter("tandem.test", "a test counter", "a", "x").increment();
        metrics.counter("tandem.test", "a test counter", "a", "x").increment();
        metrics.counter("tandem.test", "a test counter", "b", "x").increment();

        assertThat(registry.get("tandem.test").tags("a", "x").counter().count()).isEqualTo(2);
        assertThat(registry.get("tandem.test").tags("b", "x").counter().count()).isEqualTo(1);
    }
}
