package dev.tandem.router;

import static dev.tandem.router.TestSupport.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Locale;

import jakarta.inject.Inject;

import com.google.rpc.PreconditionFailure;
import dev.tandem.calibration.CalibrationMap;
import dev.tandem.fakes.FakeWorker;
import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.CascadeMode;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.router.v1.Tier;
import dev.tandem.router.learning.QualityLearning;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** Cascades on validation and calibrated confidence, calibration from the audit service, task and tenant budgets. */
@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
class CascadeAndBudgetTests {

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    @Inject
    QualityLearning learning;

    @Test
    void lowConfidenceAndInvalidOutputsClimbTiersAndEveryAttemptIsRecordedWithItsCost() {
        DispatchResponse response = router.dispatch(step("cascade-test").build());

        assertThat(response.getResult().getModelId()).isEqualTo("cs-large");
        assertThat(response.getAttemptsList()).extracting(Attempt::getModelId, Attempt::getOutcome,
                Attempt::getCascadeLevel, Attempt::getTier).containsExactly(
                org.assertj.core.groups.Tuple.tuple("cs-small-lowconf", AttemptOutcome.ATTEMPT_OUTCOME_LOW_CONFIDENCE,
                        0, Tier.TIER_SMALL),
                org.assertj.core.groups.Tuple.tuple("cs-medium-invalid-output",
                        AttemptOutcome.ATTEMPT_OUTCOME_VALIDATION_FAILED, 1, Tier.TIER_MEDIUM),
                org.assertj.core.groups.Tuple.tuple("cs-large", AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED, 2,
                        Tier.TIER_LARGE));
        // 120 tokens at 1, 10 and 100 USD per 1M
        assertThat(response.getAttemptsList()).extracting(Attempt::getCostUsd).containsExactly(0.00012, 0.0012,
                0.012);
        assertThat(response.getCostUsd()).isCloseTo(0.01332, Offset.offset(1e-12));
        assertThat(response.getAttempts(0).getError())
                .isEqualTo("has calibrated confidence 0.200 under the 'cascade-test' threshold 0.500");
        assertThat(response.getAttempts(1).getError()).isEqualTo("failed validation (schema)");
        assertThat(response.getCascadeDecisionsList()).extracting(d -> d.getModelId())
                .containsExactly("cs-medium-invalid-output", "cs-large");
        assertThat(response.getTraceList()).anySatisfy(l -> assertThat(l).contains("cascade: output of "
                + "cs-small-lowconf@local has calibrated confidence 0.200 under the 'cascade-test' threshold 0.500; "
                + "climbing to tier MEDIUM"));
    }

    @Test
    void aCostTheWorkerReportsIsBilledInsteadOfTheCatalogPriceButTheOracleBaselineStaysTheOraclesPrice() {
        DispatchResponse billed = router.dispatch(step("billed-test").build());
        DispatchResponse priced = router.dispatch(step("cascade-test").build());

        // the catalog would bill 120 tokens at 1 USD per 1M (0.00012); the provider said 0.0042
        assertThat(billed.getResult().getModelId()).isEqualTo("rc-model-billed");
        assertThat(billed.getAttempts(0).getCostUsd()).isEqualTo(FakeWorker.REPORTED_COST_USD);
        assertThat(billed.getCostUsd()).isEqualTo(FakeWorker.REPORTED_COST_USD);
        assertThat(billed.getTraceList()).anySatisfy(l -> assertThat(l).contains("$0.004200"));
        // what the oracle would have charged for the same 120 tokens, not what this model's provider billed
        assertThat(billed.getOracleBaselineUsd()).isPositive()
                .isEqualTo(priced.getOracleBaselineUsd())
                .isNotEqualTo(FakeWorker.REPORTED_COST_USD);
    }

    @Test
    void aCallerCanTurnTheCascadeOff() {
        DispatchResponse response = router.dispatch(step("cascade-test").setCascade(CascadeMode.CASCADE_MODE_OFF)
                .build());

        assertThat(response.getResult().getModelId()).isEqualTo("cs-small-lowconf");
        assertThat(response.getAttemptsList()).singleElement().satisfies(a -> assertThat(a.getOutcome())
                .isEqualTo(AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED));
    }

    @Test
    void theAuditStreamsCalibrationIsAppliedAndDecidesTheCascade() {
        learning.poll();

        DispatchResponse response = router.dispatch(step("calib-test").build());

        // raw 0.9 maps to 0.1 + 0.8 x 0.4 = 0.42 on cal-small's stream: under the 0.5 threshold
        Attempt first = response.getAttempts(0);
        assertThat(first.getModelId()).isEqualTo("cal-small");
        assertThat(first.getRawConfidence()).isEqualTo(0.9);
        assertThat(first.getConfidence()).isCloseTo(0.42, Offset.offset(1e-9));
        assertThat(first.getOutcome()).isEqualTo(AttemptOutcome.ATTEMPT_OUTCOME_LOW_CONFIDENCE);
        // cal-large has no map: its raw confidence is its calibrated confidence
        assertThat(response.getResult().getModelId()).isEqualTo("cal-large");
        assertThat(response.hasCalibratedConfidence()).isTrue();
        assertThat(response.getCalibratedConfidence()).isEqualTo(0.9);
        assertThat(response.getResult().getRawConfidence()).isEqualTo(0.9);
        assertThat(response.getTraceList()).anySatisfy(l -> assertThat(l).contains("calibrated confidence 0.900 -> "
                + "0.420 (isotonic map of stream cal-small/calib-test/, 250 reviews)"));
    }

    @Test
    @SuppressWarnings("deprecation") // the result's confidence, as oracles of the first v1 read it
    void theOutputGetsOneCalibratedValueTheAuditsFitThroughTheSharedMap() {
        learning.poll();

        DispatchResponse response = router.dispatch(step("calib-test").setCascade(CascadeMode.CASCADE_MODE_OFF)
                .build());

        // FakeAudit's fit for cal-small/calib-test, applied by the code the audit service fits and applies it with
        double expected = new CalibrationMap("ISOTONIC", new double[] {0.5, 1.0}, new double[] {0.1, 0.5}, 250, 0, 0,
                0, 0, 0, null).apply(0.9);
        assertThat(response.getResult().getModelId()).isEqualTo("cal-small");
        // cal-small answers as a worker of the first v1: its raw confidence only in the deprecated field
        assertThat(response.getResult().getRawConfidence()).isEqualTo(0.9);
        assertThat(response.getCalibratedConfidence()).isEqualTo(expected);
        assertThat(response.getAttemptsList()).singleElement().satisfies(a -> {
            assertThat(a.getConfidence()).isEqualTo(expected);
            assertThat(a.getRawConfidence()).isEqualTo(0.9);
        });
        assertThat(response.getTraceList()).anySatisfy(l -> assertThat(l).contains(String.format(Locale.ROOT,
                "calibrated confidence 0.900 -> %.3f (isotonic map of stream cal-small/calib-test/", expected)));
        assertThat(response.getResult().getConfidence()).isEqualTo(expected);
    }

    @Test
    void aTaskBudgetDowngradesToTheCheapestQualifyingModelOrFailsNamingTheBudget() {
        // bd-good (quality 0.9, est. 209 tokens x $100/1M = $0.0209) is preferred; bd-cheap (0.5) is under target
        DispatchResponse preferred = router.dispatch(step("budget-test").build());
        assertThat(preferred.getResult().getModelId()).isEqualTo("bd-good");

        DispatchResponse downgraded = router.dispatch(step("budget-test")
                .setRequirements(StepRequirements.newBuilder().setBudgetUsd(0.01)).build());
        assertThat(downgraded.getResult().getModelId()).isEqualTo("bd-cheap");
        assertThat(downgraded.getDecision().getBudgetDowngrade()).isTrue();
        assertThat(downgraded.getDecision().getExplanation()).contains("because the preferred bd-good@local (est. "
                + "$0.020900) exceeds the task budget ($0.01 left)");
        assertThat(downgraded.getBudget().getTaskLeftUsd()).isEqualTo(0.01);

        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.dispatch(step("budget-test")
                        .setRequirements(StepRequirements.newBuilder().setBudgetUsd(0.0001)).build()));
        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(error.getStatus().getDescription()).startsWith("budget exceeded: ")
                .contains("none fits the task budget ($0.0001 left)")
                .contains("the cheapest qualifying is estimated at $0.000209");
        PreconditionFailure.Violation v = TestSupport.detail(error, PreconditionFailure.class).getViolations(0);
        assertThat(v.getType()).isEqualTo("BUDGET");
        assertThat(v.getSubject()).isEqualTo("task");
    }

    @Test
    void aTenantBudgetCountsWhatWasSpentAndRefusesOnceTheEstimateNoLongerFits() {
        // limit $0.003 per 1h; estimate 209 tokens x $10/1M = $0.00209; actual 120 tokens = $0.0012
        DispatchResponse first = router.dispatch(step("tenant-test").setTenant("acme").build());
        assertThat(first.getCostUsd()).isCloseTo(0.0012, Offset.offset(1e-12));
        assertThat(first.getBudget().getTenant()).isEqualTo("acme");
        assertThat(first.getBudget().getTenantLimitUsd()).isEqualTo(0.003);
        assertThat(first.getBudget().getTenantSpentUsd()).isCloseTo(0.0012, Offset.offset(1e-12));
        assertThat(first.getBudget().getTenantWindowSeconds()).isEqualTo(3600);

        StatusRuntimeException error = catchThrowableOfType(StatusRuntimeException.class,
                () -> router.dispatch(step("tenant-test").setTenant("acme").build()));
        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(error.getStatus().getDescription()).contains("none fits the tenant 'acme' budget (limit "
                + "$0.003 per 1h, spent $0.0012, $0.0018 left)");
        assertThat(TestSupport.detail(error, PreconditionFailure.class).getViolations(0).getSubject())
                .isEqualTo("tenant:acme");

        // another tenant has no budget
        assertThat(router.dispatch(step("tenant-test").setTenant("other").build()).getResult().getModelId())
                .isEqualTo("tn-model");
    }
}
