package dev.tandem.audit.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import dev.tandem.audit.policy.PolicyDecision.Mode;
import dev.tandem.audit.policy.PolicyDecision.Reason;

class DecisionRuleTests {

    static final String SEED = "seed";

    @Test
    void theStrictestRuleWinsInOrder() {
        assertThat(decide("a", 0.99, true, policy(PolicyState.PROBATION, 0.5, 0, 0)).reason())
                .isEqualTo(Reason.PROBATION);
        assertThat(decide("a", 0.99, true, policy(PolicyState.SUSPENDED, 0.5, 0, 0)).reason())
                .isEqualTo(Reason.TIGHTENED);
        assertThat(decide("a", 0.99, false, policy(PolicyState.NORMAL, 0.5, 0, 0)).reason())
                .isEqualTo(Reason.VALIDATION_FAILED);
        assertThat(decide("a", 0.4, true, policy(PolicyState.NORMAL, 0.5, 0, 0)).reason())
                .isEqualTo(Reason.LOW_CONFIDENCE);
        PolicyDecision pass = decide("a", 0.9, true, policy(PolicyState.NORMAL, 0.5, 0, 0));
        assertThat(pass.review()).isFalse();
        assertThat(pass.mode()).isEqualTo(Mode.NONE);
        assertThat(pass.explanation()).startsWith("Passed: stream m/classify is NORMAL");
    }

    @Test
    void theSamplingRulesFollowTheDrawWhichIsTheSameForTheSameIdAndSeed() {
        int blocking = 0;
        int shadow = 0;
        for (int i = 0; i < 2000; i++) {
            String id = "task-" + i + "/step";
            PolicyDecision d = decide(id, 0.9, true, policy(PolicyState.NORMAL, 0.5, 0.3, 0.1));
            double u = SamplingDraw.uniform(SEED, id);
            assertThat(d.draw()).isEqualTo(u);
            assertThat(decide(id, 0.9, true, policy(PolicyState.NORMAL, 0.5, 0.3, 0.1))).isEqualTo(d);
            if (u < 0.1) {
                assertThat(d.reason()).isEqualTo(Reason.OUTGOING_LIMIT);
                assertThat(d.mode()).isEqualTo(Mode.BLOCKING);
                blocking++;
            } else if (u < 0.3) {
                assertThat(d.reason()).isEqualTo(Reason.RANDOM_SAMPLE);
                assertThat(d.mode()).isEqualTo(Mode.SHADOW);
                shadow++;
            } else {
                assertThat(d.review()).isFalse();
            }
            assertThat(d.samplingProbability()).isEqualTo(0.3);
            assertThat(d.certificationSample()).isEqualTo(u < 0.3);
        }
        // a uniform draw: about 10 % and 20 %
        assertThat(blocking).isBetween(150, 250);
        assertThat(shadow).isBetween(330, 470);
        assertThat(SamplingDraw.uniform("other seed", "task-1/step")).isNotEqualTo(SamplingDraw.uniform(SEED,
                "task-1/step"));
    }

    private static PolicyDecision decide(String id, double raw, boolean valid, DecisionPolicy policy) {
        return DecisionRule.decide(new PolicyInput(id, raw, raw, valid), policy, SEED);
    }

    private static DecisionPolicy policy(PolicyState state, double lambda, double f, double b) {
        return new DecisionPolicy("m/classify", 1, state, lambda, true, lambda, f, b, null, 0.95, 0.02, 0.01);
    }
}
