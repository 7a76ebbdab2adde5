package dev.tandem.oracle;

import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One calibrated confidence per output: the router's (DispatchResponse.calibrated_confidence), which the StepResult
 * reports and the oracle sends to AuditService.Decide for the ledger, next to the worker's raw confidence.
 */
@QuarkusTest
class CalibratedConfidenceTests extends OracleTestBase {

    @Test
    void theStepResultReportsAndTheAuditRecordsTheRoutersCalibratedConfidence() {
        router.confidence.put("extract", 0.62);

        var response = oracle().execute(triage());

        assertOneCalibratedValuePerStep(response);
    }

    @Test
    void aRouterOfTheFirstV1IsReadFromTheResultsDeprecatedConfidence() {
        router.firstV1Router = true;
        router.confidence.put("extract", 0.62);

        var response = oracle().execute(triage());

        assertOneCalibratedValuePerStep(response);
    }

    private void assertOneCalibratedValuePerStep(ExecuteResponse response) {
        assertThat(response.getStepsList()).hasSize(5).allSatisfy(s -> {
            double calibrated = s.getStepId().equals("extract") ? 0.62 : 0.9;
            assertThat(s.getConfidence()).as("%s: the router's calibrated confidence", s.getStepId())
                    .isEqualTo(calibrated);
            // the fake worker is overconfident by 0.02
            assertThat(s.getRawConfidence()).isEqualTo(calibrated + 0.02);
            DecideRequest decided = audit.decisions.get(response.getTaskId() + "/" + s.getStepId());
            assertThat(decided.hasConfidence()).as("the oracle sends the calibrated value").isTrue();
            assertThat(decided.getConfidence()).as("%s: what the ledger records", s.getStepId())
                    .isEqualTo(s.getConfidence());
            assertThat(decided.getRawConfidence()).isEqualTo(s.getRawConfidence());
        });
    }
}
