package dev.tandem.router.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ExplorationBudgetTests {

    private static final long SETTLE = 60_000_000_000L;

    private final AtomicLong now = new AtomicLong();
    private final ExplorationBudget budget = new ExplorationBudget(0.05, 20, SETTLE, now::get);

    @Test
    void aFreshWindowAllowsOnlyTheBudgetShareOfTheStepItself() {
        assertThat(budget.headroomUsd("classify", "", 1.0)).isCloseTo(0.05, within(1e-12));
    }

    @Test
    void oracleDirectStepsEarnHeadroomAndOverspendUsesItUp() {
        for (int i = 0; i < 4; i++) {
            budget.dispatched("classify", "", "t" + i + "/s", 1.0, 1.0, 0);
        }
        // the window ending with the next step holds 4 oracle steps and it: 5 x 5 %
        assertThat(budget.headroomUsd("classify", "", 1.0)).isCloseTo(0.25, within(1e-12));

        budget.dispatched("classify", "", "t4/s", 1.0, 1.2, 0);
        assertThat(budget.headroomUsd("classify", "", 1.0)).isCloseTo(0.30 - 0.20, within(1e-12));
        assertThat(budget.overspendFraction("classify", "")).isCloseTo(0.2 / 5, within(1e-12));
    }

    @Test
    void aReservationCountsUntilItsReviewArrivesOrItLapses() {
        budget.dispatched("classify", "", "t0/s", 1.0, 0.01, 1.1);
        assertThat(budget.overspendFraction("classify", "")).isCloseTo(0.11, within(1e-12));

        budget.reviewed("classify", "", "t0/s", 1.05, 0);
        assertThat(budget.overspendFraction("classify", "")).isCloseTo(0.06, within(1e-12));

        budget.dispatched("classify", "", "t1/s", 1.0, 0.01, 1.1);
        now.addAndGet(SETTLE); // no review came: the output passed unreviewed
        assertThat(budget.overspendFraction("classify", "")).isCloseTo((0.06 - 0.99) / 2, within(1e-12));
    }

    @Test
    void aStepTheAuditPassedReleasesItsHoldAtOnce() {
        budget.dispatched("classify", "", "t0/s", 1.0, 0.01, 1.1);
        assertThat(budget.overspendFraction("classify", "")).isCloseTo(0.11, within(1e-12));
        assertThat(budget.settled("classify", "", "t0/s")).isTrue();
        // only what it really cost remains: 0.01 against a 1.0 baseline
        assertThat(budget.overspendFraction("classify", "")).isCloseTo(-0.99, within(1e-12));
        assertThat(budget.settled("classify", "", "t0/s")).as("nothing left to release").isFalse();
        assertThat(budget.settled("classify", "", "t9/s")).as("unknown step").isFalse();
        assertThat(budget.settled("extract", "", "t0/s")).as("unknown window").isFalse();
        // a shadow review that runs later is charged then
        budget.reviewed("classify", "", "t0/s", 1.05, 0);
        assertThat(budget.overspendFraction("classify", "")).isCloseTo(0.06, within(1e-12));
    }

    @Test
    void anEscalationAddsItsCostToTheStepButNotASecondBaseline() {
        budget.dispatched("classify", "", "t0/s", 1.0, 0.01, 2.1);
        budget.reviewed("classify", "", "t0/s", 1.05, 1.0);
        budget.dispatched("classify", "", "t0/s", 1.0, 1.0, 0);

        assertThat(budget.steps("classify", "")).isEqualTo(1);
        assertThat(budget.overspendFraction("classify", "")).isCloseTo(1.06, within(1e-12));
    }

    @Test
    void windowsArePerWorkerTypeAndTenant() {
        budget.dispatched("classify", "acme", "t0/s", 1.0, 2.0, 0);

        assertThat(budget.overspendFraction("classify", "acme")).isCloseTo(1.0, within(1e-12));
        assertThat(budget.overspendFraction("classify", "")).isZero();
        assertThat(budget.overspendFraction("extract", "acme")).isZero();
    }

    @Test
    void aLateShadowReviewOfAStepThatLeftTheWindowIsChargedToTheNewestStep() {
        for (int i = 0; i < 25; i++) {
            budget.dispatched("classify", "", "t" + i + "/s", 1.0, 1.0, 0);
        }
        budget.reviewed("classify", "", "t0/s", 0.5, 0);

        assertThat(budget.overspendFraction("classify", "")).isCloseTo(0.5 / 20, within(1e-12));
    }

    /**
     * The guarantee: a router that lets a step overspend only within the headroom keeps every window of W steps
     * within (1 + e) x its all-oracle cost, from the first step, whatever the steps really cost within their worst
     * case. Steps here are of one size (the lookahead's assumption); their worst cases and real costs are random.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void everyWindowStaysWithinTheBudgetFromTheFirstStep(long seed) {
        Random random = new Random(seed);
        int steps = 3000;
        int window = budget.windowSteps();
        List<double[]> accounts = new ArrayList<>(); // {actual, baseline}
        int workerSteps = 0;
        int overspendingSteps = 0;
        for (int i = 0; i < steps; i++) {
            double baseline = 1.0;
            // a worker: execution 1-5 % of the oracle; a review 100-115 % (it reads the candidate too), whose
            // rejection carries the reviewer's own answer (the worker contract), so no redo
            double exec = 0.01 + 0.04 * random.nextDouble();
            double review = 1.0 + 0.15 * random.nextDouble();
            double worst = exec + review - baseline;
            String key = "t" + i + "/s";
            if (worst <= budget.headroomUsd("classify", "", baseline)) {
                workerSteps++;
                budget.dispatched("classify", "", key, baseline, exec, review);
                double actual = exec;
                if (random.nextDouble() < 0.6) { // reviewed (else it passed, and its reservation lapses)
                    budget.reviewed("classify", "", key, review, 0);
                    actual += review;
                } else {
                    now.addAndGet(SETTLE);
                }
                overspendingSteps += actual > baseline ? 1 : 0;
                accounts.add(new double[] {actual, baseline});
            } else {
                budget.dispatched("classify", "", key, baseline, baseline, 0);
                accounts.add(new double[] {baseline, baseline});
            }
        }
        for (int end = 1; end <= steps; end++) {
            double actual = 0;
            double baseline = 0;
            for (int k = Math.max(0, end - window); k < end; k++) {
                actual += accounts.get(k)[0];
                baseline += accounts.get(k)[1];
            }
            assertThat(actual).as("window ending at step %d", end).isLessThanOrEqualTo(1.05 * baseline + 1e-9);
        }
        // not vacuous: the budget was used, and steps did overspend within it
        assertThat(workerSteps).isGreaterThan(steps / 10);
        assertThat(overspendingSteps).isGreaterThan(steps / 20);
    }
}
