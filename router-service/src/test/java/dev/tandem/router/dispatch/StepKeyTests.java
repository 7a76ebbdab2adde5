package dev.tandem.router.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The exploration budget holds each step's account under its own key: two steps never share one. */
class StepKeyTests {

    @Test
    void stepsOfDifferentTasksWhoseIdsJoinToTheSameTextHaveDifferentKeys() {
        // task "a/b" step "c" against task "a" step "b/c": joined with '/' alone, both were "a/b/c"
        assertThat(RoutingService.stepKey("a/b", "c")).isNotEqualTo(RoutingService.stepKey("a", "b/c"));
        assertThat(RoutingService.stepKey("t", "s")).isEqualTo(RoutingService.stepKey("t", "s"));
    }
}
