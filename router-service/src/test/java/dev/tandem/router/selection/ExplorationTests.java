package dev.tandem.router.selection;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.learning.QualityBoard;
import org.junit.jupiter.api.Test;

class ExplorationTests {

    private final QualityBoard board = new QualityBoard(20, 1.645, 500);
    private final RouteSelector selector = new RouteSelector();
    private final FakeLive live = new FakeLive() {
        @Override
        public QualityEstimate quality(String workerType, ModelProfile model) {
            return board.estimate(workerType, model);
        }
    };

    private static ModelProfile model(String id, ModelTier tier, double price, double prior) {
        return new ModelProfile(id, tier, price, price, price, Set.of(), 8192, Set.of(), Set.of(), prior);
    }

    // "incumbent" is measured and good; "newcomer" is cheaper but new, with a cautious prior under the target
    private final Catalog catalog = new Catalog(List.of(model("incumbent", ModelTier.LARGE, 1, 0.9),
            model("newcomer", ModelTier.SMALL, 0.1, 0.5), model("dearer", ModelTier.ORACLE, 10, 0.5)),
            List.of(new WorkerPool("p", "localhost:1", List.of("incumbent", "newcomer", "dearer"), 64, "", true)),
            "dearer", Map.of(), 0.80, Map.of(), 200, 500, 4);

    private Selection dispatch(Exploration exploration) {
        SelectionRequest request = SelectionRequest.of("classify", 100);
        return exploration.apply(selector.select(request, catalog, live), request);
    }

    @Test
    void aNewModelGetsAtMostItsShareAndOnlyUntilItIsMeasured() {
        for (int i = 0; i < 50; i++) {
            board.record("classify", "incumbent", true);
        }
        Exploration exploration = new Exploration(0.05, board);

        int explored = 0;
        for (int i = 0; i < 200; i++) {
            Selection s = dispatch(exploration);
            if (s.exploration()) {
                explored++;
                assertThat(s.best().backend().model().id()).isEqualTo("newcomer");
                assertThat(s.explanation()).startsWith("exploration: chose newcomer@p, which has 0 of the 20 audit "
                        + "verdicts needed for 'classify' (exploration share 5%); otherwise chose incumbent@p");
                // the usual choice stays behind it as failover
                assertThat(s.eligible()).extracting(c -> c.backend().model().id()).containsExactly("newcomer",
                        "incumbent");
            } else {
                assertThat(s.best().backend().model().id()).isEqualTo("incumbent");
            }
        }
        // exactly every 20th dispatch, never more: the dearer unmeasured model is never explored
        assertThat(explored).isEqualTo(10);

        for (int i = 0; i < 20; i++) {
            board.record("classify", "newcomer", i % 4 != 0);
        }
        int afterMeasured = 0;
        for (int i = 0; i < 200; i++) {
            afterMeasured += dispatch(exploration).exploration() ? 1 : 0;
        }
        assertThat(afterMeasured).isZero();
    }

    @Test
    void anExplorationTheBudgetMovesElsewhereIsNoLongerAnExploration() {
        // the router's dispatch once failed with StringIndexOutOfBoundsException on such a selection: still flagged
        // as an exploration, its explanation no longer held the exploration's "; otherwise"
        for (int i = 0; i < 50; i++) {
            board.record("classify", "incumbent", true);
        }
        Exploration exploration = new Exploration(1.0, board);
        Selection explored = dispatch(exploration);
        assertThat(explored.exploration()).isTrue();
        assertThat(explored.best().backend().model().id()).isEqualTo("newcomer");

        Selection moved = explored.budgeted(List.of(explored.best()), null, "exploration budget: newcomer@p "
                + "would overspend", false, 0);
        assertThat(moved.best().backend().model().id()).isEqualTo("incumbent");
        assertThat(moved.exploration()).isFalse();
        assertThat(moved.explanation()).startsWith("exploration budget: newcomer@p would overspend; ")
                .doesNotContain("; otherwise");

        Selection kept = explored.budgeted(List.of(), null, "exploration budget: within the headroom", false, 0);
        assertThat(kept.exploration()).isTrue();
        assertThat(kept.best().backend().model().id()).isEqualTo("newcomer");
        assertThat(kept.explanation()).contains("; otherwise chose incumbent@p");
    }

    @Test
    void zeroRateNeverExplores() {
        Exploration exploration = new Exploration(0, board);
        for (int i = 0; i < 100; i++) {
            assertThat(dispatch(exploration).exploration()).isFalse();
        }
    }
}
