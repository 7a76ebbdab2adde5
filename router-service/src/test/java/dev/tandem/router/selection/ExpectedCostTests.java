package dev.tandem.router.selection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.learning.ReviewPricing;
import dev.tandem.router.learning.StreamOutlooks;
import org.junit.jupiter.api.Test;

/**
 * The cost model: a candidate's expected total cost is its execution estimate plus its expected review and
 * escalation, priced from its audit stream; the oracle tier is never reviewed. 1,000 input and 200 output tokens:
 * the worker costs $0.00012, the oracle $0.012 directly and $0.014 to review (it reads the candidate too).
 */
class ExpectedCostTests {

    private static final double EXEC = 1200 * 0.1 / 1e6;
    private static final double ORACLE = 1200 * 10.0 / 1e6;
    private static final double REVIEW = (1200 * 10.0 + 200 * 10.0) / 1e6;

    private final RouteSelector selector = new RouteSelector();
    private final FakeLive live = new FakeLive();
    private final Catalog catalog = workerAndOracle();

    /** A worker "small" at $0.10 and the oracle at $10.00 per 1M tokens on one pool (shared with TrustEarningTests). */
    static Catalog workerAndOracle() {
        return new Catalog(List.of(
                new ModelProfile("small", ModelTier.SMALL, 0.1, 0.1, 0.1, Set.of(), 8192, Set.of(), Set.of(), 0.9),
                new ModelProfile("oracle", ModelTier.ORACLE, 10, 10, 10, Set.of(), 8192, Set.of(), Set.of(), 0.95)),
                List.of(new WorkerPool("p", "localhost:1", List.of("small", "oracle"), 8, "", true)),
                "oracle", Map.of(), 0.80, Map.of(), 200, 500, 4);
    }

    private Selection select(SelectionRequest request) {
        return selector.select(request, catalog, live);
    }

    private static CandidateEvaluation candidate(Selection s, String model) {
        return s.candidates().stream().filter(c -> c.backend().model().id().equals(model)).findFirst().orElseThrow();
    }

    private static StreamOutlooks.Outlook trusted(double review, double blocking, double error, double target) {
        return new StreamOutlooks.Outlook("normal", true, review, blocking, review, 500, error, target, 500);
    }

    @Test
    void aStreamInProbationPaysAReviewOnEveryOutputSoTheOracleDirectWins() {
        live.audited = true; // "small" has no stream yet: it will start in probation

        Selection s = select(SelectionRequest.of("classify", 1000));

        CandidateEvaluation small = candidate(s, "small");
        assertThat(small.reviewProbability()).isEqualTo(1.0);
        // no verdicts yet: the quality prior 0.9 bounds the error at 10 %
        assertThat(small.rejectProbability()).isCloseTo(0.1, within(1e-12));
        assertThat(small.reviewCostUsd()).isCloseTo(REVIEW, within(1e-12));
        assertThat(small.expectedCostUsd()).isCloseTo(EXEC + REVIEW + 0.1 * ORACLE, within(1e-12));
        assertThat(s.best().backend().model().id()).isEqualTo("oracle");
        assertThat(s.best().reviewProbability()).isZero();
        assertThat(s.best().expectedCostUsd()).isCloseTo(ORACLE, within(1e-12));
        assertThat(s.best().trustState()).isEqualTo("oracle");
    }

    @Test
    void aTrustedStreamWhoseReviewsCostLessThanTheySaveIsChosenAndTheExplanationShowsTheSum() {
        live.outlooks.put("small", trusted(0.10, 0.05, 0.08, 0.01));

        Selection s = select(SelectionRequest.of("classify", 1000));

        CandidateEvaluation small = candidate(s, "small");
        // P(reject) is bounded by the blocking share: only held outputs are escalated
        assertThat(small.rejectProbability()).isCloseTo(0.05, within(1e-12));
        assertThat(small.expectedCostUsd()).isCloseTo(EXEC + 0.10 * REVIEW + 0.05 * ORACLE, within(1e-12));
        assertThat(s.best()).isSameAs(small);
        assertThat(s.explanation()).contains("expected $0.002120 = exec $0.000120 + 10.0 % x review $0.014000 "
                + "+ 5.0 % x escalation $0.012000 (stream normal; oracle direct $0.012000)");
    }

    @Test
    void oracleDirectIsChosenWhenTheExpectedReviewsCostMoreThanTheySave() {
        // trusted, but most outputs are under the threshold: 90 % reviewed
        live.outlooks.put("small", trusted(0.90, 0.85, 0.30, 0.01));

        Selection s = select(SelectionRequest.of("classify", 1000));

        assertThat(candidate(s, "small").expectedCostUsd()).isGreaterThan(ORACLE);
        assertThat(s.best().backend().model().id()).isEqualTo("oracle");
        assertThat(s.eligible()).extracting(c -> c.backend().model().id()).containsExactly("oracle", "small");
    }

    @Test
    void aStepAllowingFewerErrorsThanAStreamIsCertifiedForRunsElsewhere() {
        live.outlooks.put("small", trusted(0.10, 0.05, 0.08, 0.05));

        Selection strict = select(SelectionRequest.of("classify", 1000).forTenant("", 0.01));
        Selection loose = select(SelectionRequest.of("classify", 1000).forTenant("", 0.05));

        assertThat(strict.best().backend().model().id()).isEqualTo("oracle");
        assertThat(candidate(strict, "small").rejectionKind()).isEqualTo(RejectionKind.ERROR_TARGET);
        assertThat(candidate(strict, "small").rejection())
                .isEqualTo("stream normal is certified for outgoing error 5.00 %, looser than the step's 1.00 %");
        assertThat(loose.best().backend().model().id()).isEqualTo("small");
    }

    @Test
    void withoutAnAuditServiceNothingIsReviewedAndExecutionPriceRanks() {
        Selection s = select(SelectionRequest.of("classify", 1000));

        assertThat(s.best().backend().model().id()).isEqualTo("small");
        assertThat(s.best().expectedCostUsd()).isEqualTo(s.best().estimatedCostUsd());
        assertThat(s.explanation()).doesNotContain("expected");
    }

    @Test
    void learnedReviewPricesScaleWithTheStepsOraclePriceAndTheWorstCaseIsTheLargestRecentRatio() {
        ReviewPricing pricing = new ReviewPricing();
        ModelProfile oracle = catalog.oracleModelOrNull();
        assertThat(pricing.reviewUsd("classify", oracle, 1000, 200)).isCloseTo(REVIEW, within(1e-12));
        // the worker contract's reviewer answers with its own output: no redo until rejections without one are seen
        assertThat(pricing.escalationUsd("classify", ORACLE)).isZero();
        // reviews cost 1.0, 1.0, 1.0, 1.0 and 1.5 times their steps' oracle baselines, whatever the steps' sizes
        double[] baselines = {0.002, 0.004, 0.001, 0.003, 0.002};
        double[] ratios = {1.0, 1.0, 1.0, 1.0, 1.5};
        for (int i = 0; i < baselines.length; i++) {
            pricing.reviewed("classify", ratios[i] * baselines[i], baselines[i], true, false);
        }
        // mean ratio 1.0, then + 1/5 x (1.5 - 1.0) = 1.1; the worst recent one 1.5; of this step's oracle price
        assertThat(pricing.reviewUsd("classify", oracle, 1000, 200)).isCloseTo(1.1 * ORACLE, within(1e-12));
        assertThat(pricing.reviewWorstUsd("classify", oracle, 1000, 200)).isCloseTo(1.5 * ORACLE, within(1e-12));
        assertThat(pricing.escalationUsd("classify", ORACLE)).isEqualTo(ORACLE);
        assertThat(pricing.reviewUsd("extract", oracle, 1000, 200)).isCloseTo(REVIEW, within(1e-12));
    }

    @Test
    void thePromptLevelPolicyPricesReviewsToo() {
        // the prompt-level policy predicts "small" right 95 % of the time, but its stream is in probation: every
        // output is reviewed, so small costs its execution plus a review, more than the oracle directly
        live.audited = true;
        live.escalationShare = 0.5;
        var predicted = Map.of("small", new QualityEstimate(0.95, 24, QualityEstimate.Source.PREDICTED));

        Selection s = selector.select(SelectionRequest.of("classify", 1000), catalog,
                new PredictedQualityView(live, predicted));

        CandidateEvaluation small = candidate(s, "small");
        assertThat(small.quality()).isEqualTo(0.95);
        assertThat(small.reviewProbability()).isEqualTo(1.0);
        assertThat(small.expectedCostUsd()).isCloseTo(EXEC + REVIEW + 0.05 * 0.5 * ORACLE, within(1e-12));
        assertThat(s.best().backend().model().id()).isEqualTo("oracle");
    }
}
