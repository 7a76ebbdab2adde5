package dev.tandem.audit.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.LedgerDatabase;
import dev.tandem.audit.StreamKey;

/**
 * The alert rate on the real ledger ({@code drift.alert-sampling-rate}): a refit stores it while the stored outcome
 * CUSUM is half-way to h and the policy rate once it is not, and Decide draws with and records what is stored.
 */
@QuarkusTest
@TestProfile(AlertSamplingRefitTests.AlertOn.class)
class AlertSamplingRefitTests {

    public static class AlertOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("tandem.audit.drift.alert-sampling-rate", "0.25", "tandem.audit.drift.alert-level", "0.5");
        }
    }

    @Inject
    DecisionService decider;
    @Inject
    VerdictService verdicts;
    @Inject
    LedgerQueries queries;
    @Inject
    StreamPolicies policies;

    @BeforeEach
    void clean() throws Exception {
        LedgerDatabase.clean();
    }

    @Test
    void aRefitStoresTheAlertRateWhileTheCusumIsHalfWayAndThePolicyRateAfter() throws Exception {
        StreamKey key = new StreamKey("alert-backend", "classify", "");
        decider.decide(new DecisionRequest("a0", "t", "s", key, 0.9, 0.9, true));
        LedgerDatabase.makeNormal("alert-backend", "classify", 0.02, 0.7);
        setOutcomeCusum(3.5); // h = 6: half-way
        assertThat(verdicts.refit(key)).isPresent();
        assertThat(queries.getStream(key).samplingRate()).as("the alert rate, stored by the refit").isEqualTo(0.25);
        var decision = decider.decide(new DecisionRequest("a1", "t", "s", key, 0.95, 0.95, true)).decision();
        assertThat(decision.samplingProbability()).as("π recorded is the rate drawn with")
                .isGreaterThanOrEqualTo(0.25);

        setOutcomeCusum(0.4);
        assertThat(verdicts.refit(key)).isPresent();
        assertThat(queries.getStream(key).samplingRate()).as("the build-up rate (few certification samples)")
                .isEqualTo(0.10);
    }

    private void setOutcomeCusum(double s) throws Exception {
        try (Connection c = LedgerDatabase.connect(); var ps = c.prepareStatement("UPDATE streams SET outcome_cusum = ?, "
                + "policy_version = policy_version + 1 WHERE worker_backend = 'alert-backend'")) {
            ps.setDouble(1, s);
            ps.executeUpdate();
        }
        policies.clear();
    }
}
