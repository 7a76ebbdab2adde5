package dev.tandem.router.learning;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatencyWindowTests {

    @Test
    void p95IsUnknownUntilTheMinimumSamplesThenTracksTheRecentWindow() {
        LatencyWindow window = new LatencyWindow(20, 5);
        for (int i = 0; i < 4; i++) {
            window.record(100);
        }
        assertThat(window.p95Millis()).isZero();

        window.record(100);
        assertThat(window.p95Millis()).isEqualTo(100);

        for (int i = 0; i < 20; i++) {
            window.record(i < 18 ? 10 : 1000);
        }
        // the window holds only the last 20 calls: 18 fast, 2 slow -> p95 is the 19th smallest
        assertThat(window.p95Millis()).isEqualTo(1000);
        for (int i = 0; i < 20; i++) {
            window.record(10);
        }
        assertThat(window.p95Millis()).isEqualTo(10);
    }
}
