package dev.tandem.oracle;

import com.google.protobuf.Duration;
import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.oracle.v1.CancelTaskRequest;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.GetTaskRequest;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.SubmitTaskRequest;
import dev.tandem.proto.oracle.v1.Task;
import dev.tandem.proto.oracle.v1.TaskState;
import dev.tandem.proto.worker.v1.LatencyClass;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.tandem.oracle.TestPlans.violations;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

/**
 * BATCH-class tasks at the oracle, against the fake router (which prices a BATCH-class step at half its price, as
 * models with 50 % batch prices): only through SubmitTask, within a bounded batch deadline; the class and the
 * deadline travel with every dispatch and review; the cost report shows the batch discount.
 */
@QuarkusTest
class BatchTaskTests extends OracleTestBase {

    private String tenant;

    @BeforeEach
    void freshTenant() {
        tenant = "b-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private ExecuteRequest batchTriage(long hours) {
        return triage().toBuilder().setTenant(tenant).setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH)
                .setBatchDeadline(Duration.newBuilder().setSeconds(hours * 3600)).build();
    }

    private Task submit(ExecuteRequest request) {
        return oracle().submitTask(SubmitTaskRequest.newBuilder().setRequest(request).build()).getTask();
    }

    private Task get(String id) {
        return oracle().getTask(GetTaskRequest.newBuilder().setTaskId(id).setTenant(tenant).build()).getTask();
    }

    @Test
    void aSynchronousExecuteCannotBeBatchClass() {
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(batchTriage(2)));
        assertThat(violations(e)).containsKey("latency_class");
        assertThat(violations(e).get("latency_class")).contains("SubmitTask");
        var streamed = catchThrowableOfType(StatusRuntimeException.class,
                () -> oracle().executeStream(batchTriage(2)).forEachRemaining(event -> { }));
        assertThat(violations(streamed)).containsKey("latency_class");
        assertThat(router.dispatches).isEmpty();
    }

    @Test
    void theBatchDeadlineIsBoundedAndOnlyForBatchClassTasks() {
        var tooLong = catchThrowableOfType(StatusRuntimeException.class, () -> submit(batchTriage(25)));
        assertThat(violations(tooLong).get("batch_deadline")).contains("at most 24 h");
        var zero = catchThrowableOfType(StatusRuntimeException.class, () -> submit(batchTriage(0).toBuilder()
                .setBatchDeadline(Duration.newBuilder().setSeconds(-60)).build()));
        assertThat(violations(zero)).containsKey("batch_deadline");
        // out of google.protobuf.Duration's range: the conversion overflowed (INTERNAL "long overflow")
        var overflowing = catchThrowableOfType(StatusRuntimeException.class, () -> submit(batchTriage(0).toBuilder()
                .setBatchDeadline(Duration.newBuilder().setSeconds(Long.MAX_VALUE).setNanos(Integer.MAX_VALUE)).build()));
        assertThat(violations(overflowing)).containsKey("batch_deadline");
        var notBatch = catchThrowableOfType(StatusRuntimeException.class, () -> submit(batchTriage(2).toBuilder()
                .setLatencyClass(LatencyClass.LATENCY_CLASS_STANDARD).build()));
        assertThat(violations(notBatch).get("batch_deadline")).contains("BATCH-class tasks only");
    }

    @Test
    void aBatchTaskCarriesItsClassAndDeadlineToEveryCallAndReportsTheDiscount() {
        // a blocking review of a batch-class step is batch-class too
        audit.actions.put("extract", AuditAction.AUDIT_ACTION_REVIEW);
        var submittedAt = Instant.now();
        var id = submit(batchTriage(2)).getTaskId();
        eventually(() -> assertThat(get(id).getState()).isEqualTo(TaskState.TASK_STATE_SUCCEEDED));

        var mine = router.dispatches.stream().filter(d -> d.getTaskId().equals(id)).toList();
        assertThat(mine).isNotEmpty().allSatisfy(d -> {
            assertThat(d.getLatencyClass()).isEqualTo(LatencyClass.LATENCY_CLASS_BATCH);
            // keyed per step: a resumed run's dispatch joins this one (or gets its answer) at the router
            assertThat(d.getIdempotencyKey()).isEqualTo(id + "/" + d.getStepId() + "/execute");
            // the window runs from the submission: two hours
            assertThat((double) d.getBatchDeadline().getSeconds())
                    .isCloseTo(submittedAt.getEpochSecond() + 7200, within(60.0));
        });
        assertThat(router.reviews.stream().filter(r -> r.getTaskId().equals(id))).isNotEmpty()
                .allSatisfy(r -> {
                    assertThat(r.getLatencyClass()).isEqualTo(LatencyClass.LATENCY_CLASS_BATCH);
                    assertThat(r.getIdempotencyKey()).isEqualTo(id + "/" + r.getStepId() + "/review");
                });
        // the audit decisions carry the class and the window: a shadow review of these steps goes out batch-class
        var decided = router.dispatches.stream().filter(d -> d.getTaskId().equals(id)).findFirst().orElseThrow();
        assertThat(audit.decisions.values().stream().filter(d -> d.getTaskId().equals(id))).isNotEmpty()
                .allSatisfy(d -> {
                    assertThat(d.getLatencyClass()).isEqualTo(LatencyClass.LATENCY_CLASS_BATCH);
                    assertThat(d.getBatchDeadline()).isEqualTo(decided.getBatchDeadline());
                });
        // the router calls' own deadline is the batch window's end, hours away, not the 30 s downstream timeout
        assertThat(router.dispatchDeadlines).anySatisfy(deadline ->
                assertThat(deadline.timeRemaining(TimeUnit.MINUTES)).isBetween(100L, 120L));

        var response = get(id).getResponse();
        double stepDiscounts = response.getStepsList().stream().mapToDouble(StepResult::getBatchDiscountUsd).sum();
        assertThat(stepDiscounts).isPositive();
        assertThat(response.getCost().getBatchDiscountUsd()).isCloseTo(stepDiscounts, within(1e-12));
        // at 50 % off, what was paid for the steps equals what batching saved on them
        double paid = response.getStepsList().stream().mapToDouble(StepResult::getCostUsd).sum();
        assertThat(response.getCost().getBatchDiscountUsd()).isCloseTo(paid, within(1e-9));
    }

    @Test
    void aRejectedBatchStepIsEscalatedAsABatchClassCallWithItsOwnKey() {
        audit.actions.put("extract", AuditAction.AUDIT_ACTION_REVIEW);
        router.rejectedSteps.add("extract");
        router.reviewerAnswers = false; // the oracle redoes the step itself: an escalation dispatch
        var id = submit(batchTriage(2)).getTaskId();
        eventually(() -> assertThat(get(id).getState()).isEqualTo(TaskState.TASK_STATE_SUCCEEDED));

        var escalations = router.dispatches.stream().filter(d -> d.getTaskId().equals(id)
                && d.getRequirements().getMinTier() == dev.tandem.proto.router.v1.Tier.TIER_ORACLE).toList();
        assertThat(escalations).singleElement().satisfies(d -> {
            assertThat(d.getStepId()).isEqualTo("extract");
            assertThat(d.getLatencyClass()).isEqualTo(LatencyClass.LATENCY_CLASS_BATCH);
            assertThat(d.hasBatchDeadline()).isTrue();
            assertThat(d.getIdempotencyKey()).isEqualTo(id + "/extract/escalate");
        });
        var extract = get(id).getStepsList().stream().filter(s -> s.getStepId().equals("extract")).findFirst()
                .orElseThrow();
        assertThat(extract.getEscalated()).isTrue();
        assertThat(extract.getBatchDiscountUsd()).as("the worker call and the escalation at batch prices")
                .isPositive();
    }

    @Test
    void anInteractiveTaskHasNoBatchDiscount() {
        var response = oracle().execute(triage().toBuilder().setTenant(tenant).build());
        assertThat(response.getCost().getBatchDiscountUsd()).isZero();
        assertThat(router.dispatches).allSatisfy(d -> {
            assertThat(d.getLatencyClass()).isEqualTo(LatencyClass.LATENCY_CLASS_UNSPECIFIED);
            assertThat(d.hasBatchDeadline()).isFalse();
            // Execute has no resumed run to collect a call: its calls are not keyed
            assertThat(d.getIdempotencyKey()).isEmpty();
        });
    }

    @Test
    void cancellingABatchTaskStopsItsRunningStep() {
        router.holdDispatches = true;
        var id = submit(batchTriage(2)).getTaskId();
        eventually(() -> assertThat(router.inFlight.get()).isPositive());
        var cancelled = oracle().cancelTask(CancelTaskRequest.newBuilder().setTaskId(id).setTenant(tenant).build());
        assertThat(cancelled.getTask().getState()).isEqualTo(TaskState.TASK_STATE_CANCELLED);
        router.holdDispatches = false;
        eventually(() -> assertThat(router.inFlight.get()).isZero());
        assertThat(get(id).getState()).isEqualTo(TaskState.TASK_STATE_CANCELLED);
        assertThat(get(id).getStepsDone()).isZero();
        // the router runs a keyed call on when its caller goes away: the cancel is said to it explicitly
        eventually(() -> assertThat(router.cancelledCalls).anySatisfy(c -> {
            assertThat(c.getTaskId()).isEqualTo(id);
            assertThat(c.getTenant()).isEqualTo(tenant);
        }));
    }
}
