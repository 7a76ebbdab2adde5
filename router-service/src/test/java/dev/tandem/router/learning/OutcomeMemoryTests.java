package dev.tandem.router.learning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class OutcomeMemoryTests {

    private static float[] unit(double angle) {
        return new float[] {(float) Math.cos(angle), (float) Math.sin(angle)};
    }

    @Test
    void predictsFromTheNearestReviewedInputsShrunkTowardTheOverallRate() {
        OutcomeMemory memory = new OutcomeMemory(1000);
        // inputs near angle 0 were accepted, inputs near angle pi/2 rejected
        for (int i = 0; i < 20; i++) {
            memory.record("solve", "weak", unit(i * 0.01), true);
            memory.record("solve", "weak", unit(Math.PI / 2 - i * 0.01), false);
        }

        OutcomeMemory.Prediction easy = memory.predict("solve", "weak", unit(0.05), 10, 20, 4);
        OutcomeMemory.Prediction hard = memory.predict("solve", "weak", unit(Math.PI / 2), 10, 20, 4);

        // (10 accepted + 4 x 0.5) / (10 + 4)
        assertThat(easy.probability()).isCloseTo(12 / 14d, within(1e-9));
        assertThat(hard.probability()).isCloseTo(2 / 14d, within(1e-9));
        assertThat(easy.outcomes()).isEqualTo(40);
        assertThat(memory.predict("solve", "weak", unit(0), 10, 41, 4)).isNull();
        assertThat(memory.predict("solve", "other", unit(0), 10, 1, 4)).isNull();
    }

    @Test
    void keepsAtMostItsCapacityOverwritingTheOldest() {
        OutcomeMemory memory = new OutcomeMemory(10);
        for (int i = 0; i < 10; i++) {
            memory.record("solve", "m", unit(0), false);
        }
        for (int i = 0; i < 10; i++) {
            memory.record("solve", "m", unit(0), true);
        }

        assertThat(memory.outcomes("solve", "m")).isEqualTo(10);
        assertThat(memory.predict("solve", "m", unit(0), 5, 1, 0).probability()).isEqualTo(1.0);
        assertThat(memory.summary().get("solve/m")).containsExactly(10, 10);
    }
}
