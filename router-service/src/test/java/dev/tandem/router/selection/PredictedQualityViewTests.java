package dev.tandem.router.selection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;

import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.QualityEstimate;
import org.junit.jupiter.api.Test;

/**
 * The view the prompt-level policy ranks with: the predicted quality in place of the measured one, and everything
 * else (the audit outlook that prices reviews and escalations included) as the router sees it.
 */
class PredictedQualityViewTests {

    private final FakeLive live = new FakeLive();
    private final Catalog catalog = ExpectedCostTests.workerAndOracle();

    private CandidateEvaluation small(Selection s) {
        return s.candidates().stream().filter(c -> c.backend().model().id().equals("small")).findFirst()
                .orElseThrow();
    }

    @Test
    void aPredictedModelIsStillPricedWithItsAuditStreamSoProbationReviewsCanMakeTheOracleDirectCheaper() {
        live.audited = true; // "small" would start in probation: every output reviewed
        var view = new PredictedQualityView(live, Map.of("small",
                new QualityEstimate(0.95, 12, QualityEstimate.Source.PREDICTED)));

        Selection s = new RouteSelector().select(SelectionRequest.of("classify", 1000), catalog, view);

        CandidateEvaluation small = small(s);
        assertThat(small.qualityEstimate().source()).isEqualTo(QualityEstimate.Source.PREDICTED);
        assertThat(small.quality()).isEqualTo(0.95);
        assertThat(small.reviewProbability()).isEqualTo(1.0);
        assertThat(small.rejectProbability()).isCloseTo(0.05, within(1e-12));
        assertThat(s.best().backend().model().id()).isEqualTo("oracle");
    }

    @Test
    void aSuspendedModelStaysSuspendedWhateverItsPrediction() {
        live.quality.put("small", new QualityEstimate(0, 40, QualityEstimate.Source.SUSPENDED));
        var view = new PredictedQualityView(live, Map.of("small",
                new QualityEstimate(0.99, 12, QualityEstimate.Source.PREDICTED)));

        assertThat(view.quality("classify", catalog.models().stream()
                .filter(m -> m.id().equals("small")).findFirst().orElseThrow()).source())
                .isEqualTo(QualityEstimate.Source.SUSPENDED);
    }
}
