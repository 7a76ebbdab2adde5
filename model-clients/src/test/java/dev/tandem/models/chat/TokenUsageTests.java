package dev.tandem.models.chat;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TokenUsageTests {

    @Test
    void aSumReportsACostOnlyWhenEveryBilledTokenHasOne() {
        var billed = new TokenUsage(100, 20, 0, 0, false).withReportedCost(0.01);
        var alsoBilled = new TokenUsage(50, 10, 0, 0, true).withReportedCost(0.02);
        var priced = new TokenUsage(30, 5, 0, 0, false);

        var both = billed.plus(alsoBilled);
        assertThat(both.reportedCost()).hasValueSatisfying(c -> assertThat(c).isCloseTo(0.03, within(1e-12)));
        assertThat(both.inputTokens()).isEqualTo(150);
        assertThat(both.estimated()).isTrue();
        // half reported, half not: the catalog must price the whole sum, or the unreported half would be free
        assertThat(billed.plus(priced).reportedCost()).isEmpty();
        assertThat(priced.plus(billed).reportedCost()).isEmpty();
        // nothing billable added (no tokens at all) keeps the reported cost
        assertThat(billed.plus(TokenUsage.NONE).reportedCost()).contains(0.01);
        assertThat(TokenUsage.NONE.plus(billed).reportedCost()).contains(0.01);
    }

    @Test
    void aReportedCostMustBeAFiniteAmount() {
        var usage = new TokenUsage(1, 1, 0, 0, false);
        assertThatThrownBy(() -> usage.withReportedCost(-0.5)).hasMessageContaining("finite amount >= 0");
        assertThatThrownBy(() -> usage.withReportedCost(Double.NaN)).hasMessageContaining("finite amount >= 0");
    }
}
