package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.LedgerDatabase;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.TrustState;

/** The periodic refit on the real ledger: what it computes is what the next Decide reads. */
@QuarkusTest
class RefitTests {

    @Inject
    DecisionService decider;
    @Inject
    VerdictService verdicts;
    @Inject
    LedgerQueries queries;

    @BeforeEach
    void clean() throws Exception {
        LedgerDatabase.clean();
    }

    @Test
    void aRefitOfANormalStreamWithFewCertificationSamplesStoresTheBuildUpRate() throws Exception {
        StreamKey key = new StreamKey("refit-backend", "classify", "");
        decider.decide(new DecisionRequest("r0", "t", "s", key, 0.9, 0.9, true));
        LedgerDatabase.makeNormal("refit-backend", "classify", 0.02, 0.7);
        assertThat(queries.getStream(key).samplingRate()).isEqualTo(0.02);
        assertThat(verdicts.refit(key)).isPresent();
        var stream = queries.getStream(key);
        assertThat(stream.state()).isEqualTo(TrustState.NORMAL);
        assertThat(stream.samplingRate()).as("stored by the refit, read by Decide").isEqualTo(0.10);
        var next = decider.decide(new DecisionRequest("r1", "t", "s", key, 0.95, 0.95, true)).decision();
        assertThat(next.samplingProbability()).isGreaterThanOrEqualTo(0.10);
    }

    @Test
    void aYoungStreamIsRefittedAfterEveryTenthMoreVerdictsAnOldOneEveryFifty() {
        assertThat(VerdictService.refitDue(1, -1, 50)).as("never fitted").isTrue();
        assertThat(VerdictService.refitDue(24, 20, 50)).isFalse();
        assertThat(VerdictService.refitDue(25, 20, 50)).as("5 new verdicts at least").isTrue();
        assertThat(VerdictService.refitDue(219, 200, 50)).isFalse();
        assertThat(VerdictService.refitDue(220, 200, 50)).as("10 % more").isTrue();
        assertThat(VerdictService.refitDue(5049, 5000, 50)).isFalse();
        assertThat(VerdictService.refitDue(5050, 5000, 50)).as("every-verdicts caps it").isTrue();
    }
}
