package dev.tandem.router.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.router.config.ModelTier;
import org.junit.jupiter.api.Test;

class QualityLearningTests {

    private static StreamStatus stream(String model, String tenant, long reviewed, long rejected) {
        return StreamStatus.newBuilder().setWorkerBackend(model).setWorkerType("classify").setTenant(tenant)
                .setReviewed(reviewed).setRejected(rejected).build();
    }

    @Test
    void auditVerdictsMoveTrafficAwayFromAModelWhoseQualityDropped() {
        ModelProfile small = new ModelProfile("small", ModelTier.SMALL, 0.02, 0.02, 0.02, Set.of(), 8192, Set.of(),
                Set.of(), 0.85);
        ModelProfile oracle = new ModelProfile("oracle", ModelTier.ORACLE, 3, 15, 3, Set.of(), 8192, Set.of(),
                Set.of(), 0.95);
        Catalog catalog = new Catalog(List.of(small, oracle),
                List.of(new WorkerPool("p", "localhost:1", List.of("small", "oracle"), 8, "", true)), "oracle",
                Map.of(), 0.80, Map.of(), 200, 500, 4);
        QualityLearning learning = new QualityLearning();
        learning.board = new QualityBoard(20, 1.645);
        LiveView live = new RouteSelectorTests.FakeLive() {
            @Override
            public double quality(String workerType, ModelProfile model) {
                return learning.board.quality(workerType, model);
            }
        };
        RouteSelector selector = new RouteSelector();
        assertThat(selector.select(SelectionRequest.of("classify", 100), catalog, live).best().backend().model().id())
                .isEqualTo("small");

        // two tenants' streams of the small model: 40 reviewed, 16 rejected in all
        int streams = learning.apply(List.of(stream("small", "", 30, 12), stream("small", "acme", 10, 4)));

        assertThat(streams).isEqualTo(2);
        assertThat(learning.board.snapshot().get("classify").get("small"))
                .isEqualTo(new QualityBoard.Verdicts(24, 16));
        Selection after = selector.select(SelectionRequest.of("classify", 100), catalog, live);
        assertThat(after.best().backend().model().id()).isEqualTo("oracle");
        assertThat(after.candidates().get(1).rejection()).startsWith("quality 0.");
    }
}
