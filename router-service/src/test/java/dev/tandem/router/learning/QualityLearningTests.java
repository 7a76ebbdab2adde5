package dev.tandem.router.learning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tandem.proto.audit.v1.Calibration;
import dev.tandem.proto.audit.v1.CalibrationKnot;
import dev.tandem.proto.audit.v1.CalibrationMethod;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.selection.FakeLive;
import dev.tandem.router.selection.RouteSelector;
import dev.tandem.router.selection.Selection;
import dev.tandem.router.selection.SelectionRequest;
import org.junit.jupiter.api.Test;

class QualityLearningTests {

    private final ModelProfile small = new ModelProfile("small", ModelTier.SMALL, 0.02, 0.02, 0.02, Set.of(), 8192,
            Set.of(), Set.of(), 0.85);
    private final ModelProfile oracle = new ModelProfile("oracle", ModelTier.ORACLE, 3, 15, 3, Set.of(), 8192,
            Set.of(), Set.of(), 0.95);
    private final Catalog catalog = new Catalog(List.of(small, oracle),
            List.of(new WorkerPool("p", "localhost:1", List.of("small", "oracle"), 8, "", true)), "oracle",
            Map.of(), 0.80, Map.of(), 200, 500, 4);
    private final QualityBoard board = new QualityBoard(20, 1.645, 500);
    private final Calibrations calibrations = new Calibrations();
    private final QualityLearning learning = new QualityLearning(null, board, calibrations, new StreamOutlooks());
    private final RouteSelector selector = new RouteSelector();
    private final LiveView live = new FakeLive() {
        @Override
        public QualityEstimate quality(String workerType, ModelProfile model) {
            return board.estimate(workerType, model);
        }
    };

    private static StreamStatus stream(String model, String tenant, long reviewed, long rejected) {
        return StreamStatus.newBuilder().setWorkerBackend(model).setWorkerType("classify").setTenant(tenant)
                .setReviewed(reviewed).setRejected(rejected).setState(TrustState.TRUST_STATE_NORMAL).build();
    }

    private String chosen() {
        return selector.select(SelectionRequest.of("classify", 100), catalog, live).best().backend().model().id();
    }

    @Test
    void auditVerdictsMoveTrafficAwayFromAModelWhoseQualityDropped() {
        assertThat(chosen()).isEqualTo("small");

        // two tenants' streams of the small model: 40 reviewed, 16 rejected in all
        int streams = learning.apply(List.of(stream("small", "", 30, 12), stream("small", "acme", 10, 4)));

        assertThat(streams).isEqualTo(2);
        assertThat(board.snapshot().get("classify").get("small"))
                .isEqualTo(new QualityBoard.Verdicts(24, 16));
        Selection after = selector.select(SelectionRequest.of("classify", 100), catalog, live);
        assertThat(after.best().backend().model().id()).isEqualTo("oracle");
        assertThat(after.candidates().get(1).rejection()).startsWith("quality 0.");
    }

    @Test
    void aDropAfterALongGoodRecordMovesTrafficWithinTheWindow() {
        // 10,000 clean reviews: the cumulative rate would hide a collapse for thousands of verdicts
        learning.apply(List.of(stream("small", "", 10_000, 100)));
        assertThat(chosen()).isEqualTo("small");

        // then 300 reviews with 150 rejected: the 500-verdict window keeps 200 old ones at full rate
        learning.apply(List.of(stream("small", "", 10_300, 250)));

        QualityBoard.Verdicts v = board.snapshot().get("classify").get("small");
        assertThat(v.total()).isCloseTo(500, within(1e-9));
        assertThat(v.rejected()).isCloseTo(150 + 200 * 0.01, within(1e-6));
        assertThat(chosen()).isEqualTo("oracle");
    }

    @Test
    void pollsAddOnlyNewVerdictsAndAResetLedgerStartsOver() {
        learning.apply(List.of(stream("small", "", 30, 3)));
        learning.apply(List.of(stream("small", "", 30, 3)));
        assertThat(board.snapshot().get("classify").get("small")).isEqualTo(new QualityBoard.Verdicts(27, 3));

        learning.apply(List.of(stream("small", "", 10, 1)));
        assertThat(board.snapshot().get("classify").get("small")).isEqualTo(new QualityBoard.Verdicts(36, 4));
    }

    @Test
    void aStreamTheAuditServiceSuspendedIsAvoided() {
        learning.apply(List.of(stream("small", "", 5, 0).toBuilder().setState(TrustState.TRUST_STATE_SUSPENDED)
                .build()));

        assertThat(board.estimate("classify", small).source()).isEqualTo(QualityEstimate.Source.SUSPENDED);
        assertThat(chosen()).isEqualTo("oracle");

        learning.apply(List.of(stream("small", "", 5, 0)));
        assertThat(chosen()).isEqualTo("small");
    }

    @Test
    void calibrationMapsArePublishedPerStreamAndAppliedWithTheSharedStreamAsFallback() {
        Calibration map = Calibration.newBuilder().setMethod(CalibrationMethod.CALIBRATION_METHOD_ISOTONIC)
                .setSamples(200)
                .addKnots(CalibrationKnot.newBuilder().setRaw(0.2).setCalibrated(0.1))
                .addKnots(CalibrationKnot.newBuilder().setRaw(0.6).setCalibrated(0.3))
                .addKnots(CalibrationKnot.newBuilder().setRaw(0.9).setCalibrated(0.9)).build();
        learning.apply(List.of(stream("small", "", 200, 20).toBuilder().setCalibration(map).build(),
                stream("oracle", "", 10, 0)));

        Calibrations c = calibrations;
        // between knots: linear; outside: flat
        assertThat(c.apply("small", "classify", "", 0.4).calibrated()).isCloseTo(0.2, within(1e-9));
        assertThat(c.apply("small", "classify", "", 0.75).calibrated()).isCloseTo(0.6, within(1e-9));
        assertThat(c.apply("small", "classify", "", 0.05).calibrated()).isCloseTo(0.1, within(1e-9));
        assertThat(c.apply("small", "classify", "", 0.99).calibrated()).isCloseTo(0.9, within(1e-9));
        // a tenant without its own stream uses the shared one; a stream without a map keeps the raw value
        assertThat(c.apply("small", "classify", "acme", 0.4).calibrated()).isCloseTo(0.2, within(1e-9));
        Calibrations.Applied none = c.apply("oracle", "classify", "", 0.4);
        assertThat(none.calibrated()).isEqualTo(0.4);
        assertThat(none.map()).isNull();
    }
}
