package dev.tandem.router.learning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import java.util.Set;

import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.config.ModelTier;
import org.junit.jupiter.api.Test;

class QualityBoardTests {

    private final ModelProfile model = new ModelProfile("m", ModelTier.SMALL, 0, 0, 0, Set.of(), 1, Set.of(),
            Set.of(), 0.85);

    @Test
    void priorHoldsUntilEnoughVerdictsThenTheLowerBoundOfTheAcceptRate() {
        QualityBoard board = new QualityBoard(20, 1.645);
        for (int i = 0; i < 19; i++) {
            board.record("classify", "m", true);
        }
        assertThat(board.quality("classify", model)).isEqualTo(0.85);

        board.record("classify", "m", false);
        // 19 of 20 accepted: the Wilson lower bound is ~0.80, below the raw rate 0.95
        assertThat(board.quality("classify", model)).isCloseTo(0.804, within(0.005));
        assertThat(board.quality("extract", model)).isEqualTo(0.85);
    }

    @Test
    void manyRejectionsDriveQualityDown() {
        QualityBoard board = new QualityBoard(20, 1.645);
        board.replaceAll(Map.of("classify", Map.of("m", new QualityBoard.Verdicts(30, 30))));

        assertThat(board.quality("classify", model)).isLessThan(0.5);
    }
}
