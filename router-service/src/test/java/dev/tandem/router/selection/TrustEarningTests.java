package dev.tandem.router.selection;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import dev.tandem.router.budget.ExplorationBudget;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.learning.StreamOutlooks;
import org.junit.jupiter.api.Test;

/**
 * Which candidate the exploration budget allows, and when a stream still earning trust gets the step: 1,000 input
 * and 200 output tokens; the worker costs $0.00012, the oracle $0.012 directly and $0.014 to review.
 */
class TrustEarningTests {

    private static final long MINUTE = 60_000_000_000L;
    private static final double ORACLE = 0.012;

    private final AtomicLong now = new AtomicLong();
    // the router's defaults: trusted steps in flight pooled at a 1 % risk, ceiling 2 x over all-oracle
    private final ExplorationBudget budget = new ExplorationBudget(0.05, 20, MINUTE, 0.01, 2.0, now::get);
    private final TrustEarning earning = new TrustEarning(budget, 40, 10 * MINUTE, 60 * MINUTE, now::get);
    private final RouteSelector selector = new RouteSelector();
    private final FakeLive live = new FakeLive();
    private final Catalog catalog = ExpectedCostTests.workerAndOracle();

    private Selection route() {
        SelectionRequest request = SelectionRequest.of("classify", 1000);
        return earning.apply(selector.select(request, catalog, live), request);
    }

    private static StreamOutlooks.Outlook probation(double error, double projectedReview, long samples) {
        return new StreamOutlooks.Outlook("probation", false, 1, 1, projectedReview, samples, error, 0.01, samples);
    }

    /** Runs a step on the oracle directly, as the router records it. */
    private void oracleStep(int i) {
        budget.dispatched("classify", "", "t" + i + "/s", ORACLE, ORACLE, 0);
    }

    @Test
    void aStreamEarningTrustGetsTheStepOnlyWhileItsWorstCaseFitsTheBudget() {
        live.outlooks.put("small", probation(0.1, 0.2, 10));
        // worst case over oracle-direct: 0.00012 + 0.014 (review) + 0.012 (escalation) - 0.012 = 0.01412, more
        // than a fresh window's 5 % of 0.012
        Selection first = route();
        assertThat(first.best().backend().model().id()).isEqualTo("oracle");
        CandidateEvaluation held = first.candidates().stream()
                .filter(c -> c.backend().model().id().equals("small")).findFirst().orElseThrow();
        assertThat(held.rejectionKind()).isEqualTo(RejectionKind.EXPLORATION_BUDGET);
        assertThat(held.rejection()).startsWith("worst case $0.014120 over oracle-direct exceeds the exploration "
                + "budget's headroom $0.000600");
        assertThat(first.earningTrust()).isFalse();

        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        // 19 oracle steps and this one: 5 % of 20 x $0.012 = $0.012 of headroom, still under $0.01412
        assertThat(route().best().backend().model().id()).isEqualTo("oracle");

        // the reviewer's output replaces a rejected one: no escalation, worst case $0.00212
        live.outlooks.put("small", probation(0.1, 0.2, 10));
        ReviewPricingAware.noRedo(live);
        Selection chosen = route();
        assertThat(chosen.best().backend().model().id()).isEqualTo("small");
        assertThat(chosen.earningTrust()).isTrue();
        assertThat(chosen.explanation()).startsWith("earning trust: chose small@p (stream probation, every output "
                + "reviewed)");
        assertThat(chosen.eligible()).extracting(c -> c.backend().model().id()).containsExactly("small", "oracle");
    }

    @Test
    void aStreamThatCannotPayOffIsRetiredWithABackOffThatDoubles() {
        ReviewPricingAware.noRedo(live);
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        // 80 % of outputs would still need a review once trusted: $0.00012 + 0.8 x $0.014 > $0.012
        live.outlooks.put("small", probation(0.3, 0.9, 60));

        Selection s = route();
        assertThat(s.best().backend().model().id()).isEqualTo("oracle");
        assertThat(earning.retired("classify", "", "small")).isTrue();
        assertThat(s.candidates().stream().filter(c -> c.backend().model().id().equals("small")).findFirst()
                .orElseThrow().rejection()).startsWith("retired from exploration: projected steady-state cost");

        // better evidence does not help during the back-off
        live.outlooks.put("small", probation(0.05, 0.1, 80));
        assertThat(route().best().backend().model().id()).isEqualTo("oracle");

        now.addAndGet(10 * MINUTE); // back-off over: explored again, and now it pays off
        assertThat(earning.retired("classify", "", "small")).isFalse();
        assertThat(route().best().backend().model().id()).isEqualTo("small");

        // bad again: retired for twice as long
        live.outlooks.put("small", probation(0.3, 0.9, 120));
        route();
        now.addAndGet(10 * MINUTE);
        assertThat(earning.retired("classify", "", "small")).isTrue();
        now.addAndGet(10 * MINUTE);
        assertThat(earning.retired("classify", "", "small")).isFalse();
    }

    /**
     * A stream not decided yet whose backend's golden set had {@code wrong} of 200 items wrong, A = 1 %, as the
     * audit projects it: every output reviewed above the 2 % trust target, else the blocking share 1 - A / error
     * and 2 % sampling.
     */
    private static StreamOutlooks.Outlook onboarded(long wrong) {
        double error = wrong / 200.0;
        double blocking = error <= 0.01 ? 0 : 1 - 0.01 / error;
        return StreamOutlooks.Outlook.NEW.withOnboarding(new StreamOutlooks.Onboarding("golden-set", 200, wrong, 100,
                0, 0, error, 0.01, error > 0.02 ? 1 : blocking + (1 - blocking) * 0.02));
    }

    private CandidateEvaluation small(Selection s) {
        return s.candidates().stream().filter(c -> c.backend().model().id().equals("small")).findFirst()
                .orElseThrow();
    }

    @Test
    void aStreamWhoseGoldenSetShowsItCannotPayOffGetsNoExplorationStepAndTheDecisionSaysWhy() {
        ReviewPricingAware.noRedo(live);
        // 56 of 200 wrong: never out of probation at A = 1 %, every output reviewed: $0.00012 + $0.014 > $0.012;
        // retired on the first decision, a fresh window's budget or not: the reason named is the evidence
        live.outlooks.put("small", onboarded(56));

        Selection s = route();

        assertThat(s.best().backend().model().id()).isEqualTo("oracle");
        assertThat(s.earningTrust()).isFalse();
        assertThat(earning.retired("classify", "", "small")).isTrue();
        assertThat(small(s).rejectionKind()).isEqualTo(RejectionKind.RETIRED);
        assertThat(small(s).rejection()).startsWith("retired from exploration: onboarding golden set 28.0 % wrong "
                + "(n=200, counted as 100 reviews; no production reviews yet) ⇒ review share 100.0 % at A = 1.00 % "
                + "⇒ steady-state cost $0.014120 ≥ oracle $0.012000");
        assertThat(s.explanation()).contains("onboarding golden set 28.0 % wrong");

        // every later decision in the back-off names the evidence too, also when the budget could fund the step
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        Selection later = route();
        assertThat(later.best().backend().model().id()).isEqualTo("oracle");
        assertThat(small(later).rejection()).startsWith("retired from exploration for another 10 min: onboarding "
                + "golden set 28.0 % wrong");
        assertThat(later.explanation()).contains("onboarding golden set 28.0 % wrong");
    }

    @Test
    void aDryRunSaysAStreamWouldBeRetiredWithoutRetiringIt() {
        ReviewPricingAware.noRedo(live);
        live.outlooks.put("small", onboarded(56));
        SelectionRequest request = SelectionRequest.of("classify", 1000);

        for (int i = 0; i < 3; i++) {
            Selection preview = earning.preview(selector.select(request, catalog, live), request);
            assertThat(preview.best().backend().model().id()).isEqualTo("oracle");
            assertThat(small(preview).rejection()).startsWith("retired from exploration: onboarding golden set");
        }
        assertThat(earning.retired("classify", "", "small")).isFalse();

        // the first dispatch retires it for the first back-off, not one doubled by the dry runs
        route();
        now.addAndGet(10 * MINUTE - 1);
        assertThat(earning.retired("classify", "", "small")).isTrue();
        now.addAndGet(1);
        assertThat(earning.retired("classify", "", "small")).isFalse();
    }

    @Test
    void aStreamWithACleanGoldenSetIsExploredAsWithout() {
        ReviewPricingAware.noRedo(live);
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        live.outlooks.put("small", onboarded(0));

        Selection s = route();

        assertThat(s.best().backend().model().id()).isEqualTo("small");
        assertThat(s.earningTrust()).isTrue();
        assertThat(s.explanation()).startsWith("earning trust: chose small@p (stream probation, every output reviewed)")
                .contains("projected steady-state cost $0.000400 from its onboarding golden set 0.0 % wrong (n=200");
        assertThat(earning.retired("classify", "", "small")).isFalse();
    }

    @Test
    void aGoldenSetWithErrorsWhoseConfidencesSeparateThemIsExploredAndTheDecisionSaysWhy() {
        ReviewPricingAware.noRedo(live);
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        // 16 of 200 wrong (8 %: every output reviewed on the error rate alone, as above), but a threshold on the
        // items' confidences passes 92.5 % of them within A: 7.5 % + 92.5 % x 2 % sampling reviewed once trusted
        double review = 0.075 + 0.925 * 0.02;
        live.outlooks.put("small", StreamOutlooks.Outlook.NEW.withOnboarding(new StreamOutlooks.Onboarding(
                "golden-set", 200, 16, 100, 0, 0, 0.08, 0.01, review, 0.925, 0.5)));

        Selection s = route();

        assertThat(s.best().backend().model().id()).isEqualTo("small");
        assertThat(s.earningTrust()).isTrue();
        assertThat(s.explanation()).contains("projected steady-state cost $0.001429 from its onboarding golden set "
                + "8.0 % wrong (n=200, counted as 100 reviews; no production reviews yet; its confidences: a "
                + "threshold at 0.500 passes 92.5 % of the items)");
        assertThat(earning.retired("classify", "", "small")).isFalse();
    }

    @Test
    void productionEvidenceOverridesTheGoldenSet() {
        ReviewPricingAware.noRedo(live);
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        // the golden set said 28 % but 60 production reviews project a 20 % review share: production decides
        live.outlooks.put("small", probation(0.05, 0.2, 60).withOnboarding(onboarded(56).onboarding()));
        assertThat(route().best().backend().model().id()).isEqualTo("small");

        // production contradicted the evidence and the audit service dropped it: benefit of the doubt as without
        live.outlooks.put("small", probation(0.0, 1.0, 10));
        assertThat(route().best().backend().model().id()).isEqualTo("small");
        assertThat(earning.retired("classify", "", "small")).isFalse();

        // combined with the production reviews so far the evidence still says it cannot pay off: retired
        live.outlooks.put("small", probation(0.3, 1.0, 10).withOnboarding(new StreamOutlooks.Onboarding(
                "golden-set", 200, 56, 100, 10, 3, 31.0 / 110, 0.01, 1.0)));
        Selection s = route();
        assertThat(s.best().backend().model().id()).isEqualTo("oracle");
        assertThat(small(s).rejection()).contains("with 3 of 10 production reviews rejected: 28.2 %");
    }

    @Test
    void aSmallGoldenSetIsTooLittleEvidenceToRetireAStream() {
        ReviewPricingAware.noRedo(live);
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        // 30 items at the audit's discount: 15 pseudo-reviews, under the 40 a projection must rest on
        live.outlooks.put("small", StreamOutlooks.Outlook.NEW.withOnboarding(new StreamOutlooks.Onboarding(
                "golden-set", 30, 9, 15, 0, 0, 0.3, 0.01, 0.97)));
        assertThat(route().best().backend().model().id()).isEqualTo("small");
    }

    @Test
    void aStreamWithTooLittleEvidenceIsNotRetired() {
        ReviewPricingAware.noRedo(live);
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        live.outlooks.put("small", probation(0.3, 1.0, 10));

        assertThat(route().best().backend().model().id()).isEqualTo("small");
        assertThat(earning.retired("classify", "", "small")).isFalse();
    }

    @Test
    void aTrustedStreamCheaperThanTheOracleIsChosenOnItsExpectedCostWithoutExploring() {
        ReviewPricingAware.noRedo(live);
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        live.outlooks.put("small", new StreamOutlooks.Outlook("normal", true, 0.1, 0.05, 0.1, 500, 0.05, 0.01, 500));

        Selection s = route();

        assertThat(s.best().backend().model().id()).isEqualTo("small");
        assertThat(s.earningTrust()).isFalse();
        assertThat(s.explanation()).startsWith("chose small@p for 'classify'");
    }

    @Test
    void aTrustedStreamStillBuildingUpIsExploredWithinTheBudgetRatherThanStalling() {
        ReviewPricingAware.noRedo(live);
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        // just cleared: 90 % of outputs still reviewed blocking, so today it costs more than the oracle
        // ($0.00012 + 0.92 x $0.014 > $0.012); once its evidence is in, 10 % (projection from 10 reviews)
        live.outlooks.put("small", new StreamOutlooks.Outlook("normal (building up)", true, 0.92, 0.9, 0.1, 10,
                0.0, 0.01, 30, true));

        Selection s = route();

        assertThat(s.best().backend().model().id()).isEqualTo("small");
        assertThat(s.earningTrust()).isTrue();
        assertThat(s.explanation()).startsWith("earning trust: chose small@p (stream normal (building up), 90 % of "
                + "outputs reviewed blocking until production evidence bounds its error rate)");

        // without the build-up flag the same figures make a trusted stream the oracle's loser, and it would stall
        live.outlooks.put("small", new StreamOutlooks.Outlook("normal", true, 0.92, 0.9, 0.1, 10, 0.0, 0.01, 30));
        assertThat(route().best().backend().model().id()).isEqualTo("oracle");
    }

    @Test
    void withoutAnOracleCandidateTheSelectionStands() {
        live.outlooks.put("small", probation(0.1, 0.2, 10));
        Catalog noOracle = new Catalog(List.of(
                new ModelProfile("small", ModelTier.SMALL, 0.1, 0.1, 0.1, Set.of(), 8192, Set.of(), Set.of(), 0.9)),
                List.of(new WorkerPool("p", "localhost:1", List.of("small"), 8, "", true)),
                "oracle", Map.of(), 0.80, Map.of(), 200, 500, 4);
        SelectionRequest request = SelectionRequest.of("classify", 1000);

        Selection s = earning.apply(selector.select(request, noOracle, live), request);

        assertThat(s.best().backend().model().id()).isEqualTo("small");
    }

    /** Learned escalation prices: rejecting reviews that carry the reviewer's own output need no redo. */
    static final class ReviewPricingAware {
        static void noRedo(FakeLive live) {
            live.escalationShare = 0;
        }
    }

    private static final StreamOutlooks.Outlook TRUSTED =
            new StreamOutlooks.Outlook("normal", true, 0.1, 0.05, 0.1, 500, 0.05, 0.01, 500);

    /**
     * A closed loop of {@code inFlight} steps, as the platform benchmark's saturation phases: each step is routed,
     * admitted and executed, and its review (at the chosen stream's review probability, for its full price) or its
     * settlement comes when {@code inFlight} later steps have been routed. Returns the share of steps on the worker.
     */
    private double closedLoop(TrustEarning trust, int inFlight, int steps) {
        java.util.Random random = new java.util.Random(7);
        java.util.ArrayDeque<String[]> flying = new java.util.ArrayDeque<>();
        int onWorker = 0;
        SelectionRequest request = SelectionRequest.of("classify", 1000);
        for (int i = 0; i < steps; i++) {
            if (flying.size() >= inFlight) {
                String[] done = flying.poll();
                if (random.nextDouble() < Double.parseDouble(done[1])) {
                    trust.budget().reviewing("classify", "", done[0]);
                    trust.budget().reviewed("classify", "", done[0], 0.014, 0);
                } else {
                    trust.budget().settled("classify", "", done[0]);
                }
            }
            String key = "t" + i + "/s";
            Selection s = trust.apply(selector.select(request, catalog, live), request);
            CandidateEvaluation chosen = s.best();
            trust.admitted("classify", "", key, chosen);
            trust.executed("classify", "", key, chosen, ORACLE, chosen.estimatedCostUsd());
            if (!chosen.oracleDirect()) {
                onWorker++;
                flying.add(new String[] {key, Double.toString(chosen.reviewProbability())});
            }
        }
        return (double) onWorker / steps;
    }

    private TrustEarning worstCaseRule() {
        // main's rule: every step in flight held at its worst case (alpha = 0)
        return new TrustEarning(new ExplorationBudget(0.05, 20, MINUTE, now::get), 40, 10 * MINUTE, 60 * MINUTE,
                now::get);
    }

    @Test
    void aTrustedStreamCheaperThanTheOracleKeepsGettingItsStepsWithManyInFlight() {
        ReviewPricingAware.noRedo(live);
        live.outlooks.put("small", TRUSTED);

        double pooled = closedLoop(earning, 64, 2000);
        double worstCase = closedLoop(worstCaseRule(), 64, 2000);

        assertThat(pooled).isGreaterThan(0.95);
        assertThat(worstCase).as("each step in flight at its worst case").isLessThan(0.3);
    }

    @Test
    void theDecisionSaysWhyTheBudgetAdmittedATrustedStepWhileOthersAreInFlight() {
        ReviewPricingAware.noRedo(live);
        live.outlooks.put("small", TRUSTED);
        for (int i = 0; i < 19; i++) {
            oracleStep(i);
        }
        for (int i = 19; i < 38; i++) {
            Selection s = route();
            assertThat(s.best().backend().model().id()).isEqualTo("small");
            earning.admitted("classify", "", "t" + i + "/s", s.best());
        }

        Selection s = route();

        assertThat(s.best().backend().model().id()).isEqualTo("small");
        assertThat(s.explanation()).startsWith("chose small@p").endsWith("; exploration budget: trusted stream small@p "
                + "pooled with the window's 19 other trusted step(s) in flight, their reviews and escalations held at "
                + "$0.084000 (at most 6 reviewed and 0 escalated with probability 99.00 %; worst case $0.280000)");
    }

    @Test
    void theDecisionSaysWhyTheBudgetHeldATrustedStepBack() {
        ReviewPricingAware.noRedo(live);
        live.outlooks.put("small", TRUSTED);
        // a ceiling as low as e: the worst case of the trusted steps in flight, $0.00212 each over oracle-direct,
        // must fit 5 % of the window's all-oracle cost ($0.012)
        ExplorationBudget tight = new ExplorationBudget(0.05, 20, MINUTE, 0.01, 0.05, now::get);
        TrustEarning trust = new TrustEarning(tight, 40, 10 * MINUTE, 60 * MINUTE, now::get);
        for (int i = 0; i < 19; i++) {
            tight.dispatched("classify", "", "t" + i + "/s", ORACLE, ORACLE, 0);
        }
        SelectionRequest request = SelectionRequest.of("classify", 1000);
        Selection s = null;
        int admitted = 0;
        for (int i = 19; i < 40; i++) {
            s = trust.apply(selector.select(request, catalog, live), request);
            trust.admitted("classify", "", "t" + i + "/s", s.best());
            if (s.best().oracleDirect()) {
                break;
            }
            admitted++;
        }

        assertThat(admitted).isEqualTo(5);
        assertThat(s.explanation()).startsWith("exploration budget: 1 candidate(s) held back (small@p: trusted stream "
                + "held back by the exploration budget's ceiling: the worst case of the window's 6 trusted step(s) in "
                + "flight with this one, $0.084000 (each reviewed and escalated), would take a window over 5.00 % over "
                + "all-oracle)");
        assertThat(s.best().oracleDirect()).isTrue();
        // and the choice it names is the one that gets the step, not the ranking's first
        assertThat(s.explanation()).contains("; chose " + s.best().backend().key() + " for 'classify': first of 1 "
                + "eligible that the exploration budget allows").doesNotContain("chose small@p");
    }

    /**
     * The platform benchmark's settings (e = 100 % over 100 steps) and stream: reviewed 15 %, its dearest review
     * 2.5 x the oracle's price for the step, a rejection answered by the reviewer's own output (no redo).
     */
    @Test
    void aTrustedStreamAtThePlatformBenchmarksSettingsKeepsItsStepsWithUpTo128InFlight() {
        ReviewPricingAware.noRedo(live);
        live.reviewWorstScale = 0.030 / 0.014;
        live.outlooks.put("small", new StreamOutlooks.Outlook("normal", true, 0.15, 0.1, 0.15, 500, 0.08, 0.35, 500));
        for (int inFlight : new int[] {16, 64, 128}) {
            ExplorationBudget wide = new ExplorationBudget(1.0, 100, MINUTE, 0.01, 2.0, now::get);
            ExplorationBudget wideWorst = new ExplorationBudget(1.0, 100, MINUTE, now::get);

            double pooled = closedLoop(new TrustEarning(wide, 40, 10 * MINUTE, 60 * MINUTE, now::get), inFlight,
                    3000);
            double worstCase = closedLoop(new TrustEarning(wideWorst, 40, 10 * MINUTE, 60 * MINUTE, now::get),
                    inFlight, 3000);

            System.out.printf("closed loop %d in flight: worker share %.3f pooled, %.3f each at its worst case%n",
                    inFlight, pooled, worstCase);
            assertThat(pooled).as("%d in flight, pooled", inFlight).isGreaterThan(0.95);
            if (inFlight > 100) {
                // every step of the window in flight, each at its worst case: more than e x W can absorb
                assertThat(worstCase).as("%d in flight, each at its worst case", inFlight).isLessThan(0.75);
            }
        }
    }

    @Test
    void aStreamEarningTrustIsStillHeldAtItsWorstCaseWithManyInFlight() {
        ReviewPricingAware.noRedo(live);
        live.outlooks.put("small", probation(0.1, 0.2, 10));

        double pooled = closedLoop(earning, 64, 2000);
        double worstCase = closedLoop(worstCaseRule(), 64, 2000);

        // exactly the worst-case rule's decisions: its exploration is held to e
        assertThat(pooled).isEqualTo(worstCase).isLessThan(0.3);
    }
}
