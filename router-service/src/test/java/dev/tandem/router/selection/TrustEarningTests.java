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
    private final ExplorationBudget budget = new ExplorationBudget(0.05, 20, MINUTE, now::get);
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
}
