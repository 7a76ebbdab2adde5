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

    // ---- trusted steps in flight: pooled at a bounded risk instead of each at its worst case ----------------------

    /** A trusted stream's step: reviewed with probability 0.1 for at most 1.1 x the oracle, no redo when rejected. */
    private static final ExplorationBudget.Risk TRUSTED = new ExplorationBudget.Risk(0.1, 1.1, 0.05, 0);

    private final ExplorationBudget pooling = new ExplorationBudget(0.05, 20, SETTLE, 0.01, 2.0, now::get);

    @Test
    void manyTrustedStepsInFlightAreHeldTogetherAtTheirBoundWhereEachAtItsWorstCaseHeldTheNextBack() {
        ExplorationBudget worstCase = new ExplorationBudget(0.05, 20, SETTLE, now::get);
        for (int i = 0; i < 19; i++) {
            // executed at 1 % of the oracle's price, review still to come
            pooling.dispatched("classify", "", "t" + i + "/s", 1.0, 0.01, TRUSTED);
            worstCase.dispatched("classify", "", "t" + i + "/s", 1.0, 0.01, TRUSTED.worstUsd());
        }
        // each at its worst case: 19 x (0.01 + 1.1 - 1) = 2.09 over, against 5 % of 20 steps: the 20th is held back
        assertThat(worstCase.headroomUsd("classify", "", 1.0)).isLessThan(0.01 + 1.1 - 1.0);

        ExplorationBudget.Headroom h = pooling.headroom("classify", "", 1.0, TRUSTED);
        // pooled: of 20 steps reviewed at 10 %, more than 6 with probability <= 0.5 % (Poisson-binomial)
        assertThat(h.trustedInFlight()).isEqualTo(20);
        assertThat(h.reviewsBound()).isEqualTo(6);
        assertThat(h.pooledUsd()).isCloseTo(6 * 1.1, within(1e-9));
        assertThat(h.worstUsd()).isCloseTo(20 * 1.1, within(1e-9));
        assertThat(h.ceilingBinding()).isFalse();
        // the window ending with it leaves 1.0 x 5 % + 19 x 0.99 saved - 6.6 held = 13.21; the least over the windows
        // that will hold it is the one of the newest step, it and 18 steps to come: 1.0 + 0.99 - 2 x 1.1 (of two steps
        // both reviewed with probability 1 %, over the 0.5 % risk); its execution's 0.99 saving fits
        assertThat(h.usd()).isCloseTo(1.0 + 0.99 - 2.2, within(1e-9));
        assertThat(0.01 - 1.0).isLessThanOrEqualTo(h.usd());
    }

    @Test
    void aTrustedStepAloneIsHeldAtItsWorstCaseWhenItsReviewIsLikelierThanTheRisk() {
        ExplorationBudget.Headroom h = pooling.headroom("classify", "", 1.0, TRUSTED);

        assertThat(h.reviewsBound()).isEqualTo(1);
        assertThat(h.pooledUsd()).isCloseTo(1.1, within(1e-12));
        // the same as the worst-case rule: 5 % of its own price minus its review
        assertThat(h.usd()).isCloseTo(0.05 - 1.1, within(1e-12));
    }

    @Test
    void aStepLeavesThePoolWhenItsReviewStartsAndTheReviewReplacesItsHold() {
        for (int i = 0; i < 10; i++) {
            pooling.dispatched("classify", "", "t" + i + "/s", 1.0, 0.01, TRUSTED);
        }
        double pooled = pooling.overspendFraction("classify", "");
        pooling.reviewing("classify", "", "t0/s");
        // its review is certain now: held at its worst case, outside the pool
        assertThat(pooling.headroom("classify", "", 1.0, null).trustedInFlight()).isEqualTo(9);
        assertThat(pooling.overspendFraction("classify", "")).isGreaterThan(pooled);

        pooling.reviewed("classify", "", "t0/s", 1.05, 0);
        assertThat(pooling.headroom("classify", "", 1.0, null).trustedInFlight()).isEqualTo(9);
        assertThat(pooling.settled("classify", "", "t1/s")).isTrue();
        assertThat(pooling.headroom("classify", "", 1.0, null).trustedInFlight()).isEqualTo(8);
    }

    @Test
    void aStepThatLeavesTheWindowInFlightPaysItsReviewInTheWindowsThatHeldIt() {
        budget.dispatched("classify", "", "t0/s", 1.0, 0.01, 1.1);
        for (int i = 1; i <= 20; i++) {
            budget.dispatched("classify", "", "t" + i + "/s", 1.0, 1.0, 0);
        }
        // t0 left the window with its review still to come: the windows that held t0 counted its 1.1 on every check
        assertThat(budget.departed("classify", "")).isEqualTo(1);
        assertThat(budget.headroomUsd("classify", "", 1.0)).isCloseTo(0.05 * 20, within(1e-9));

        assertThat(budget.reviewed("classify", "", "t0/s", 1.05, 0)).as("its baseline").isEqualTo(1.0);
        assertThat(budget.departed("classify", "")).isZero();
        // not charged to the newest step, whose windows never reserved it
        assertThat(budget.overspendFraction("classify", "")).isZero();
    }

    /** Closed loop: K steps in flight; each admitted step's outcome drawn at its stream's true rates. */
    private record Simulation(List<double[]> accounts, int workerSteps, int steps) {

        double maxWindowRatio(int window) {
            double max = 0;
            for (int end = 1; end <= accounts.size(); end++) {
                max = Math.max(max, ratio(end, window));
            }
            return max;
        }

        double ratio(int end, int window) {
            double actual = 0;
            double baseline = 0;
            for (int k = Math.max(0, end - window); k < end; k++) {
                actual += accounts.get(k)[0];
                baseline += accounts.get(k)[1];
            }
            return actual / baseline;
        }

        int windowsOver(double ratio, int window) {
            int over = 0;
            for (int end = 1; end <= accounts.size(); end++) {
                over += ratio(end, window) > ratio + 1e-9 ? 1 : 0;
            }
            return over;
        }
    }

    /**
     * Runs {@code steps} steps with {@code inFlight} of them in flight at a time through {@code b}, as the router does:
     * a trusted step is admitted when its execution fits the headroom of its pool, else it runs on the oracle
     * (cost = baseline = 1). A worker step's execution costs 1-5 % of the oracle, its review 100-115 %; the router
     * believes it reviewed with probability 0.1 ({@link #TRUSTED}), while it really is with {@code reviewed(i)}.
     * A step's review is its own, also after it left the window (a step in flight holds its reservation until then).
     */
    private static Simulation simulate(ExplorationBudget b, long seed, int steps, int inFlight,
                                       java.util.function.IntToDoubleFunction reviewed) {
        Random random = new Random(seed);
        List<double[]> accounts = new ArrayList<>(); // {actual, baseline} in the budget's order
        java.util.Map<Integer, Integer> accountOf = new java.util.HashMap<>();
        java.util.ArrayDeque<Integer> flying = new java.util.ArrayDeque<>();
        int workerSteps = 0;
        for (int i = 0; i <= steps; i++) {
            while (!flying.isEmpty() && (flying.size() >= inFlight || i == steps)) {
                int done = flying.poll();
                String key = "t" + done + "/s";
                int account = accountOf.get(done);
                if (random.nextDouble() < reviewed.applyAsDouble(done)) {
                    double review = 1.0 + 0.1 * random.nextDouble();
                    b.reviewing("classify", "", key);
                    b.reviewed("classify", "", key, review, 0);
                    accounts.get(account)[0] += review;
                } else {
                    b.settled("classify", "", key);
                }
            }
            if (i == steps) {
                break;
            }
            String key = "t" + i + "/s";
            double exec = 0.01 + 0.04 * random.nextDouble();
            accountOf.put(i, accounts.size());
            if (exec - 1.0 <= b.headroom("classify", "", 1.0, TRUSTED).usd()) {
                workerSteps++;
                b.dispatched("classify", "", key, 1.0, exec, TRUSTED);
                accounts.add(new double[] {exec, 1.0});
                flying.add(i);
            } else {
                b.dispatched("classify", "", key, 1.0, 1.0, 0);
                accounts.add(new double[] {1.0, 1.0});
            }
        }
        return new Simulation(accounts, workerSteps, steps);
    }

    /**
     * The guarantee with trusted steps pooled, from a fresh start: no window above (1 + ceiling) x all-oracle ever,
     * and above (1 + e) in at most a share alpha of the windows when the streams are reviewed at the rates the router
     * believes; and the trusted stream keeps most of the steps even with 64 in flight (20 steps per window).
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void withTrustedStepsPooledEveryWindowStaysWithinTheCeilingAndAlmostEveryOneWithinTheBudget(long seed) {
        for (int inFlight : new int[] {1, 8, 64}) {
            ExplorationBudget b = new ExplorationBudget(0.05, 20, SETTLE, 0.01, 2.0, now::get);
            Simulation s = simulate(b, seed * 100 + inFlight, 3000, inFlight, i -> 0.1);
            System.out.printf("pooled, seed %d, %d in flight: %d of 3000 steps on the worker, %d windows over 1.05, "
                    + "largest window %.3f x all-oracle%n", seed, inFlight, s.workerSteps(), s.windowsOver(1.05, 20),
                    s.maxWindowRatio(20));

            assertThat(s.maxWindowRatio(20)).as("%d in flight", inFlight).isLessThanOrEqualTo(3.0 + 1e-9);
            assertThat(s.windowsOver(1.05, 20)).as("%d in flight: windows over 1.05", inFlight)
                    .isLessThanOrEqualTo((int) (0.01 * 3000));
            assertThat(s.workerSteps()).as("%d in flight: steps on the trusted worker", inFlight)
                    .isGreaterThan(3000 * 8 / 10);
        }
    }

    @Test
    void withEveryStepAtItsWorstCaseManyStepsInFlightStarveTheTrustedStream() {
        // main's rule (alpha = 0): the same closed loop as above with 64 in flight
        ExplorationBudget b = new ExplorationBudget(0.05, 20, SETTLE, now::get);
        Simulation s = simulate(b, 1, 3000, 64, i -> 0.1);
        System.out.printf("each at its worst case, 64 in flight: %d of 3000 steps on the worker%n", s.workerSteps());

        assertThat(s.workerSteps()).isLessThan(3000 / 2);
        assertThat(s.maxWindowRatio(20)).isLessThanOrEqualTo(1.05 + 1e-9);
    }

    /**
     * Trust lost: from step 1,000 on every output is reviewed while the router still believes 10 % (the audit's next
     * poll has not told it), and with 64 in flight against windows of 20 every review arrives after its window is
     * full. The pool's bound no longer holds and most windows go over (1 + e), but none over the ceiling,
     * (1 + 0.25) x all-oracle here.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void aStreamWhoseReviewRateJumpsCannotTakeAWindowOverTheCeiling(long seed) {
        ExplorationBudget b = new ExplorationBudget(0.05, 20, SETTLE, 0.01, 0.25, now::get);
        Simulation s = simulate(b, seed, 3000, 64, i -> i < 1000 ? 0.1 : 1.0);
        System.out.printf("review rate jump, seed %d: %d of 3000 steps on the worker, %d windows over 1.05, largest "
                + "window %.3f x all-oracle%n", seed, s.workerSteps(), s.windowsOver(1.05, 20), s.maxWindowRatio(20));

        assertThat(s.maxWindowRatio(20)).isLessThanOrEqualTo(1.25 + 1e-9);
        assertThat(s.windowsOver(1.05, 20)).as("the jump does break the (1 + e) bound").isPositive();
    }
}
