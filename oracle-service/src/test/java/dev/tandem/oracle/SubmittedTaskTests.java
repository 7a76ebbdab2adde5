package dev.tandem.oracle;

import dev.tandem.oracle.service.FinishedTaskRetention;
import dev.tandem.oracle.service.TaskQueueWorker;
import dev.tandem.proto.oracle.v1.CancelTaskRequest;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.GetTaskRequest;
import dev.tandem.proto.oracle.v1.ListTasksRequest;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.PlanReady;
import dev.tandem.proto.oracle.v1.TaskDone;
import dev.tandem.proto.oracle.v1.StepAudited;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.StepStarted;
import dev.tandem.proto.oracle.v1.SubmitTaskRequest;
import dev.tandem.proto.oracle.v1.SubmitTaskResponse;
import dev.tandem.proto.oracle.v1.Task;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.proto.oracle.v1.TaskState;
import dev.tandem.proto.oracle.v1.WatchTaskRequest;
import dev.tandem.proto.oracle.v1.AuditOutcome;
import io.agroal.api.AgroalDataSource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.tandem.oracle.TestPlans.classify;
import static dev.tandem.oracle.TestPlans.plan;
import static dev.tandem.oracle.TestPlans.step;
import static dev.tandem.oracle.TestPlans.violations;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Submitted tasks against a real PostgreSQL (TANDEM_TEST_DB_URL) and the fake router and audit: submit, watch,
 * get, idempotency, cancel, tenant isolation, bad input, and a task resumed from its stored steps after its replica
 * died.
 */
@QuarkusTest
class SubmittedTaskTests extends OracleTestBase {

    @Inject
    AgroalDataSource db;

    @Inject
    TaskQueueWorker worker;

    @Inject
    FinishedTaskRetention retention;

    /** Every test has tenants of its own, so tasks of other tests never show in its lists. */
    String tenant;

    @BeforeEach
    void freshTenant() {
        tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void finishedTasksPastTheRetentionAreDeletedWithTheirEventsAndUnfinishedOnesAreKeptHoweverOld() throws SQLException {
        var now = Instant.now();
        var old = now.minus(Duration.ofDays(31)); // the retention is 30 days (720h)
        String oldDone = storeTask("SUCCEEDED", old, old, null);
        String oldCancelled = storeTask("CANCELLED", old, old, null);
        String recentDone = storeTask("FAILED", old, now.minus(Duration.ofDays(29)), null);
        // still running on a live replica (its lease holds), though submitted long ago
        String oldRunning = storeTask("RUNNING", old, null, now.plus(Duration.ofHours(1)));
        try (var c = db.getConnection(); var ps = c.prepareStatement(
                "INSERT INTO oracle.task_events (task_id, sequence, event) VALUES (?, 1, ?)")) {
            ps.setString(1, oldDone);
            ps.setBytes(2, TaskEvent.getDefaultInstance().toByteArray());
            ps.executeUpdate();
        }

        assertThat(retention.purge(now)).isGreaterThanOrEqualTo(2);

        assertThat(storedTasks(oldDone, oldCancelled, recentDone, oldRunning))
                .containsExactlyInAnyOrder(recentDone, oldRunning);
        try (var c = db.getConnection(); var ps = c.prepareStatement(
                "SELECT count(*) FROM oracle.task_events WHERE task_id = ?")) {
            ps.setString(1, oldDone);
            try (var rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getLong(1)).as("the deleted task's events").isZero();
            }
        }
        try (var c = db.getConnection(); var ps = c.prepareStatement("DELETE FROM oracle.tasks WHERE task_id = ?")) {
            ps.setString(1, oldRunning); // not left for the queue worker of later tests
            ps.executeUpdate();
        }
    }

    /** A task row as a replica would have left it, written directly: the retention reads only state and times. */
    private String storeTask(String state, Instant submitted, Instant finished, Instant leaseUntil) throws SQLException {
        var id = "retention-" + UUID.randomUUID();
        try (var c = db.getConnection(); var ps = c.prepareStatement("INSERT INTO oracle.tasks (task_id, tenant, "
                + "request_digest, request, task, state, submitted_at, finished_at, lease_owner, lease_until) "
                + "VALUES (?, ?, 'x', ?, 'retention', ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, tenant);
            ps.setBytes(3, new byte[0]);
            ps.setString(4, state);
            ps.setTimestamp(5, Timestamp.from(submitted));
            ps.setTimestamp(6, finished == null ? null : Timestamp.from(finished));
            ps.setString(7, leaseUntil == null ? null : "another-replica");
            ps.setTimestamp(8, leaseUntil == null ? null : Timestamp.from(leaseUntil));
            ps.executeUpdate();
        }
        return id;
    }

    private List<String> storedTasks(String... ids) throws SQLException {
        var found = new ArrayList<String>();
        try (var c = db.getConnection(); var ps = c.prepareStatement(
                "SELECT task_id FROM oracle.tasks WHERE task_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", ids));
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getString(1));
                }
            }
        }
        return found;
    }

    @Test
    void aSubmittedTaskRunsInTheBackgroundAndItsEventsEndWithTheAnswer() {
        var submitted = submit(triage().toBuilder().setTenant(tenant).build(), "");
        var id = submitted.getTask().getTaskId();
        assertThat(id).isNotBlank();
        assertThat(submitted.getExisting()).isFalse();
        assertThat(submitted.getTask().getTenant()).isEqualTo(tenant);

        var events = watch(id, 0);
        assertThat(events).extracting(TaskEvent::getSequence)
                .as("every event once, in order, from 1").containsExactlyElementsOf(range(1, events.size()));
        assertThat(events.getFirst().hasPlanReady()).isTrue();
        var done = events.getLast();
        assertThat(done.hasTaskDone()).isTrue();

        var task = get(id);
        assertThat(task.getState()).isEqualTo(TaskState.TASK_STATE_SUCCEEDED);
        assertThat(task.getResponse()).isEqualTo(done.getTaskDone().getResponse());
        assertThat(task.getResponse().getTaskId()).isEqualTo(id);
        assertThat(task.getResponse().getCost().getActualUsd()).isPositive();
        assertThat(task.getStepsList()).extracting(StepResult::getStepId)
                .containsExactly("classify", "extract", "summarize", "validate-extract", "validate-summary");
        assertThat(task.getStepsDone()).isEqualTo(5);
        assertThat(task.getStepsTotal()).isEqualTo(5);
        assertThat(task.getLastSequence()).isEqualTo(done.getSequence());
        assertThat(task.getAttempts()).isEqualTo(1);
        assertThat(task.hasFinishedAt()).isTrue();

        // resumable: after the third event, exactly the rest
        assertThat(watch(id, 3)).containsExactlyElementsOf(events.subList(3, events.size()));
        assertThat(watch(id, done.getSequence())).as("nothing after the last event").isEmpty();
    }

    @Test
    void theSameIdempotencyKeyReturnsTheSameTaskRunOnceAndADifferentRequestUnderItIsRefused() {
        var request = single("a");
        var first = submit(request, "order-42");
        var second = submit(request, "order-42");
        assertThat(second.getTask().getTaskId()).isEqualTo(first.getTask().getTaskId());
        assertThat(second.getExisting()).isTrue();
        var id = first.getTask().getTaskId();
        awaitState(id, TaskState.TASK_STATE_SUCCEEDED);
        assertThat(submit(request, "order-42").getTask().getState()).isEqualTo(TaskState.TASK_STATE_SUCCEEDED);
        assertThat(router.dispatches.stream().filter(d -> d.getTaskId().equals(id))).as("run once").hasSize(1);

        var e = catchThrowableOfType(StatusRuntimeException.class,
                () -> submit(request.toBuilder().putInputs("document", "another ticket").build(), "order-42"));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
        assertThat(e.getStatus().getDescription()).contains("order-42", id);
        // the key is per tenant: another tenant's same key is another task
        var other = submit(request.toBuilder().setTenant(tenant + "-b").build(), "order-42");
        assertThat(other.getTask().getTaskId()).isNotEqualTo(id);
        tenant = tenant + "-b";
        awaitState(other.getTask().getTaskId(), TaskState.TASK_STATE_SUCCEEDED); // not left running into other tests
    }

    @Test
    void cancellingStopsQueuedWorkAndARunningStepAndTheTaskStaysCancelled() {
        router.holdDispatches = true;
        var running1 = submit(single("a"), "").getTask().getTaskId();
        var running2 = submit(single("a"), "").getTask().getTaskId();
        eventually(() -> assertThat(router.inFlight.get()).as("both slots busy, held mid-step").isEqualTo(2));
        var queued = submit(single("a"), "").getTask();
        assertThat(queued.getState()).isEqualTo(TaskState.TASK_STATE_QUEUED);
        assertThat(queued.getQueuePosition()).isPositive();
        assertThat(get(running1).getState()).isEqualTo(TaskState.TASK_STATE_RUNNING);

        assertThat(cancel(queued.getTaskId()).getState()).isEqualTo(TaskState.TASK_STATE_CANCELLED);
        assertThat(cancel(running1).getState()).isEqualTo(TaskState.TASK_STATE_CANCELLED);
        var watched = catchThrowableOfType(StatusRuntimeException.class, () -> watch(running1, 0));
        assertThat(watched.getStatus().getCode()).isEqualTo(Status.Code.CANCELLED);
        router.holdDispatches = false;

        awaitState(running2, TaskState.TASK_STATE_SUCCEEDED);
        // the freed slots would have run the queued task by now, had it not been cancelled
        eventually(() -> assertThat(router.inFlight.get()).isZero());
        assertThat(router.dispatches.stream().filter(d -> d.getTaskId().equals(queued.getTaskId()))).isEmpty();
        assertThat(router.dispatches.stream().filter(d -> d.getTaskId().equals(running1))).hasSize(1);
        assertThat(get(queued.getTaskId()).getState()).isEqualTo(TaskState.TASK_STATE_CANCELLED);
        assertThat(get(running1).getState()).isEqualTo(TaskState.TASK_STATE_CANCELLED);
        assertThat(get(running1).getStepsDone()).as("the cancelled step's output was not kept").isZero();

        assertThat(cancel(running1).getState()).as("cancelling twice").isEqualTo(TaskState.TASK_STATE_CANCELLED);
        var finished = catchThrowableOfType(StatusRuntimeException.class, () -> cancel(running2));
        assertThat(finished.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    }

    @Test
    void aFailedTaskShowsItsErrorAndItsWatchEndsWithItsStatus() {
        router.failingWorkerTypes.add("classify");
        router.failingOnOracleTier.add("classify");
        var id = submit(single("a"), "").getTask().getTaskId();
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> watch(id, 0));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        var task = get(id);
        assertThat(task.getState()).isEqualTo(TaskState.TASK_STATE_FAILED);
        assertThat(task.getErrorCode()).isEqualTo("UNAVAILABLE");
        assertThat(task.getErrorMessage()).contains("step 'a'");
    }

    @Test
    void anotherTenantCannotGetWatchListOrCancelATask() {
        var id = submit(single("a"), "").getTask().getTaskId();
        var other = tenant + "-other";
        for (var call : List.<Runnable>of(
                () -> oracle().getTask(GetTaskRequest.newBuilder().setTaskId(id).setTenant(other).build()),
                () -> oracle().cancelTask(CancelTaskRequest.newBuilder().setTaskId(id).setTenant(other).build()),
                () -> oracle().watchTask(WatchTaskRequest.newBuilder().setTaskId(id).setTenant(other).build())
                        .forEachRemaining(e -> { }))) {
            var e = catchThrowableOfType(StatusRuntimeException.class, call::run);
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        }
        assertThat(oracle().listTasks(ListTasksRequest.newBuilder().setTenant(other).build()).getTasksList())
                .isEmpty();
        assertThat(list(ListTasksRequest.newBuilder())).extracting(Task::getTaskId).containsExactly(id);
        awaitState(id, TaskState.TASK_STATE_SUCCEEDED); // untouched by the other tenant's cancel
    }

    @Test
    void listPagesNewestFirstAndFiltersByState() {
        var ids = new ArrayList<String>();
        for (int i = 0; i < 3; i++) {
            ids.add(submit(single("a"), "").getTask().getTaskId());
        }
        ids.forEach(id -> awaitState(id, TaskState.TASK_STATE_SUCCEEDED));
        var first = oracle().listTasks(ListTasksRequest.newBuilder().setTenant(tenant).setPageSize(2).build());
        assertThat(first.getTasksList()).extracting(Task::getTaskId).containsExactly(ids.get(2), ids.get(1));
        assertThat(first.getNextPageToken()).isNotEmpty();
        var second = oracle().listTasks(ListTasksRequest.newBuilder().setTenant(tenant).setPageSize(2)
                .setPageToken(first.getNextPageToken()).build());
        assertThat(second.getTasksList()).extracting(Task::getTaskId).containsExactly(ids.get(0));
        assertThat(second.getNextPageToken()).isEmpty();
        assertThat(list(ListTasksRequest.newBuilder().setState(TaskState.TASK_STATE_SUCCEEDED))).hasSize(3);
        assertThat(list(ListTasksRequest.newBuilder().setState(TaskState.TASK_STATE_QUEUED))).isEmpty();
    }

    @Test
    void badInputIsInvalidArgumentWithFieldViolations() {
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> oracle().submitTask(SubmitTaskRequest.getDefaultInstance())))).containsKey("request");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> submit(ExecuteRequest.newBuilder().setTenant(tenant).build(), "")))).containsKey("request.task");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> submit(single("a"), "k".repeat(201))))).containsKey("idempotency_key");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> submit(ExecuteRequest.newBuilder().setTenant(tenant).setPlan(plan(classify("a", "missing")))
                        .putInputs("document", "x").build(), "")))).containsKey("plan.steps[0].depends_on[0]");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> list(ListTasksRequest.newBuilder().setPageToken("not-a-token"))))).containsKey("page_token");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> list(ListTasksRequest.newBuilder().setPageSize(501))))).containsKey("page_size");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> oracle().getTask(GetTaskRequest.newBuilder().setTenant(tenant).build())))).containsKey("task_id");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> watch(UUID.randomUUID().toString(), -1)))).containsKey("after_sequence");
        var missing = catchThrowableOfType(StatusRuntimeException.class, () -> get(UUID.randomUUID().toString()));
        assertThat(missing.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }

    /**
     * A task planned in the background whose failure message quotes a NUL character from the request (here the
     * pipeline name): PostgreSQL text cannot hold U+0000, so storing the failure failed, the run was taken for a store
     * outage and the task went back to the queue at every lease expiry, RUNNING for ever with its watchers waiting.
     */
    @Test
    void aTaskWhoseFailureQuotesANulCharacterEndsFailedInsteadOfRunningForEver() {
        var id = submit(ExecuteRequest.newBuilder().setTask("Summarise this document").setTenant(tenant)
                .setPipeline("document-summary\u0000").putInputs("document", "x").build(), "").getTask().getTaskId();

        var e = catchThrowableOfType(StatusRuntimeException.class, () -> watch(id, 0));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        var task = get(id);
        assertThat(task.getState()).isEqualTo(TaskState.TASK_STATE_FAILED);
        assertThat(task.getErrorCode()).isEqualTo("INVALID_ARGUMENT");
        assertThat(task.getErrorMessage()).contains("unknown pipeline 'document-summary");
        assertThat(task.getAttempts()).as("failed once, not retried").isEqualTo(1);
    }

    /**
     * Text PostgreSQL cannot store (U+0000) in what a task call stores or looks up is the client's mistake, not an
     * outage: INVALID_ARGUMENT at the field, never UNAVAILABLE with "retry later", which a client would retry for
     * ever. The same request text runs with Execute, which stores nothing.
     */
    @Test
    void nulCharactersInStoredOrLookedUpFieldsAreInvalidArgumentNotAStoreOutage() {
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> submit(single("a").toBuilder().setTask("Classify\u0000this").build(), ""))))
                .containsKey("request.task");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> submit(single("a"), "order\u000042")))).containsKey("idempotency_key");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> get("a\u0000b")))).containsKey("task_id");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> oracle().listTasks(ListTasksRequest.newBuilder().setTenant("acme\u0000").build()))))
                .containsKey("tenant");
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> cancel("\u0000")))).containsKey("task_id");
        // a task id no submission returns, too long to echo: refused at the field rather than breaking the call
        // (a NOT_FOUND quoting 10 KB of id exceeded the 8 KiB of trailers a grpc-java client accepts: INTERNAL)
        assertThat(violations(catchThrowableOfType(StatusRuntimeException.class,
                () -> get("x".repeat(10_000))))).containsKey("task_id");

        assertThat(oracle().execute(single("a").toBuilder().setTask("Classify\u0000this").build()).getStepsCount())
                .isEqualTo(1);
        awaitState(submit(single("a"), "").getTask().getTaskId(), TaskState.TASK_STATE_SUCCEEDED);
    }

    /** Any non-empty key is a key: one of blanks made a retried submission a second task, run twice. */
    @Test
    void aKeyOfBlanksIsAnIdempotencyKeyLikeAnyOther() {
        var first = submit(single("a"), " ");
        var retried = submit(single("a"), " ");
        assertThat(retried.getTask().getTaskId()).isEqualTo(first.getTask().getTaskId());
        assertThat(retried.getExisting()).isTrue();
        assertThat(first.getTask().getIdempotencyKey()).isEqualTo(" ");
        awaitState(first.getTask().getTaskId(), TaskState.TASK_STATE_SUCCEEDED);
    }

    /**
     * A run that lost its task (its lease expired and another replica resumed it, here simulated by moving the lease)
     * stores nothing more, events included: its plan, steps and end were fenced on the lease but its events were not,
     * so until its next lease renewal noticed, the stale run's events went into the stream the resumed run writes,
     * taking sequence numbers the resumed run's own events then lost (stored ON CONFLICT DO NOTHING).
     */
    @Test
    void aRunThatLostItsLeaseStoresNoMoreEvents() throws SQLException {
        router.holdDispatches = true;
        var id = submit(single("a"), "").getTask().getTaskId();
        eventually(() -> assertThat(router.inFlight.get()).as("held mid-step").isEqualTo(1));
        var before = get(id).getLastSequence();
        try (var c = db.getConnection(); var ps = c.prepareStatement("UPDATE oracle.tasks SET "
                + "lease_owner = 'replica-that-resumed-it', lease_until = now() + interval '1 hour' WHERE task_id = ?")) {
            ps.setString(1, id);
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
        router.holdDispatches = false; // the stale run goes on: its step returns
        eventually(() -> assertThat(router.inFlight.get()).isZero());
        eventually(() -> assertThat(worker.runsHere(id)).as("the stale run ended").isFalse());

        var task = get(id);
        assertThat(task.getLastSequence()).as("no event of the stale run after it lost the task").isEqualTo(before);
        assertThat(task.getStepsDone()).isZero();
        assertThat(task.getState()).isEqualTo(TaskState.TASK_STATE_RUNNING);
        try (var c = db.getConnection(); var ps = c.prepareStatement("DELETE FROM oracle.tasks WHERE task_id = ?")) {
            ps.setString(1, id); // not left for later tests
            ps.executeUpdate();
        }
    }

    /**
     * A replica died with a task half done: its plan and first step stored, its lease expired. A live replica
     * claims it and runs only the second step, on the first step's stored output; the first is neither dispatched
     * nor paid again, and the events continue the stored sequence.
     */
    @Test
    void aTaskWhoseReplicaDiedResumesFromItsLastCompletedStep() throws SQLException {
        var id = UUID.randomUUID().toString();
        var plan = plan(classify("first"), step("second", "classify", Map.of("text", "{{steps.first.output}}"),
                "first")).toBuilder().setPlanner("client").build();
        var request = ExecuteRequest.newBuilder().setTask("Classify, then classify the label").setTenant(tenant)
                .putInputs("document", "My card was charged twice").setPlan(plan).build();
        var stored = StepResult.newBuilder().setStepId("first").setWorkerType("classify")
                .setExecutedBy("earlier-run@pool").setOutput("{\"label\":\"from-the-earlier-run\"}").setCostUsd(0.25)
                .setAudit(AuditOutcome.newBuilder().setDecision("pass").setReason("trusted")).build();
        var storedEvents = List.of(
                event(id, 1).setPlanReady(PlanReady.newBuilder().setPlan(plan)).build(),
                event(id, 2).setStepStarted(StepStarted.newBuilder().setStepId("first").setWorkerType("classify"))
                        .build(),
                event(id, 3).setStepAudited(StepAudited.newBuilder().setStepId("first")
                        .setAudit(stored.getAudit())).build());
        storeDeadRun(id, request, plan, stored, storedEvents);

        awaitState(id, TaskState.TASK_STATE_SUCCEEDED);
        var dispatched = router.dispatches.stream().filter(d -> d.getTaskId().equals(id)).toList();
        assertThat(dispatched).extracting(d -> d.getStepId()).as("only the step not completed")
                .containsExactly("second");
        // the key the dead run sent for it too: the router joins its call, or answers from its record
        assertThat(dispatched.getFirst().getIdempotencyKey()).isEqualTo(id + "/second/execute");
        assertThat(dispatched.getFirst().getInputsMap()).containsEntry("text", stored.getOutput());

        var task = get(id);
        assertThat(task.getAttempts()).isEqualTo(2);
        assertThat(task.getStepsList()).extracting(StepResult::getStepId).containsExactly("first", "second");
        assertThat(task.getResponse().getStepsList().getFirst()).as("the stored step, as stored").isEqualTo(stored);
        var secondCost = task.getResponse().getStepsList().get(1).getCostUsd();
        assertThat(task.getResponse().getCost().getActualUsd()).as("the stored step is paid once, in the total")
                .isCloseTo(0.25 + secondCost, org.assertj.core.data.Offset.offset(1e-9));

        var events = watch(id, 0);
        assertThat(events.subList(0, 3)).containsExactlyElementsOf(storedEvents);
        assertThat(events).extracting(TaskEvent::getSequence).containsExactlyElementsOf(range(1, events.size()));
        assertThat(events.subList(3, events.size())).noneMatch(e -> e.hasPlanReady()
                || e.hasStepStarted() && e.getStepStarted().getStepId().equals("first"));
    }

    /**
     * A run that announced the task's answer (its task_done event is stored) and died before it stored the task's
     * end: the task ends with that answer, announced once, nothing dispatched again.
     */
    @Test
    void aTaskWhoseDeadRunAnnouncedItsAnswerEndsWithItAnnouncedOnce() throws SQLException {
        var id = UUID.randomUUID().toString();
        var plan = plan(classify("only")).toBuilder().setPlanner("client").build();
        var request = ExecuteRequest.newBuilder().setTask("Classify").setTenant(tenant)
                .putInputs("document", "My card was charged twice").setPlan(plan).build();
        var stored = StepResult.newBuilder().setStepId("only").setWorkerType("classify")
                .setExecutedBy("earlier-run@pool").setOutput("{\"label\":\"billing\"}").setCostUsd(0.25)
                .setAudit(AuditOutcome.newBuilder().setDecision("pass").setReason("trusted")).build();
        var answer = ExecuteResponse.newBuilder().setTaskId(id).setOutput("{\"only\":\"billing\"}")
                .addSteps(stored).setPlan(plan).build();
        var storedEvents = List.of(
                event(id, 1).setPlanReady(PlanReady.newBuilder().setPlan(plan)).build(),
                event(id, 2).setStepStarted(StepStarted.newBuilder().setStepId("only").setWorkerType("classify"))
                        .build(),
                event(id, 3).setTaskDone(TaskDone.newBuilder().setResponse(answer)).build());
        storeDeadRun(id, request, plan, stored, storedEvents);

        awaitState(id, TaskState.TASK_STATE_SUCCEEDED);

        assertThat(get(id).getResponse()).as("the announced answer").isEqualTo(answer);
        assertThat(watch(id, 0)).as("announced once, nothing after").containsExactlyElementsOf(storedEvents);
        assertThat(router.dispatches.stream().filter(d -> d.getTaskId().equals(id))).isEmpty();
    }

    @Test
    void tasksByStateAreAGauge() {
        var id = submit(single("a"), "").getTask().getTaskId();
        awaitState(id, TaskState.TASK_STATE_SUCCEEDED);
        worker.refreshGauges();
        var metrics = RestAssured.get("/q/metrics").then().statusCode(200).extract().asString();
        var succeeded = metrics.lines().filter(l -> l.startsWith("tandem_oracle_submitted_tasks{")
                && l.contains("state=\"succeeded\"")).findFirst().orElseThrow();
        assertThat(Double.parseDouble(succeeded.substring(succeeded.lastIndexOf(' ') + 1))).isGreaterThanOrEqualTo(1);
        assertThat(metrics.lines()).as("every state, 0 when none")
                .anyMatch(l -> l.startsWith("tandem_oracle_submitted_tasks{") && l.contains("state=\"queued\""));
    }

    private ExecuteRequest single(String stepId) {
        return ExecuteRequest.newBuilder().setTask("Classify this").setTenant(tenant)
                .putInputs("document", "My card was charged twice").setPlan(plan(classify(stepId))).build();
    }

    private SubmitTaskResponse submit(ExecuteRequest request, String key) {
        return oracle().submitTask(SubmitTaskRequest.newBuilder().setRequest(request).setIdempotencyKey(key).build());
    }

    private Task get(String id) {
        return oracle().getTask(GetTaskRequest.newBuilder().setTaskId(id).setTenant(tenant).build()).getTask();
    }

    private Task cancel(String id) {
        return oracle().cancelTask(CancelTaskRequest.newBuilder().setTaskId(id).setTenant(tenant).build()).getTask();
    }

    private List<Task> list(ListTasksRequest.Builder request) {
        return oracle().listTasks(request.setTenant(tenant).build()).getTasksList();
    }

    private List<TaskEvent> watch(String id, long after) {
        var out = new ArrayList<TaskEvent>();
        oracle().watchTask(WatchTaskRequest.newBuilder().setTaskId(id).setTenant(tenant).setAfterSequence(after)
                .build()).forEachRemaining(out::add);
        return out;
    }

    private void awaitState(String id, TaskState state) {
        eventually(() -> assertThat(get(id).getState()).isEqualTo(state));
    }

    /**
     * Stores what a replica that died mid-task left behind: the task RUNNING under an expired lease, one completed
     * step and the events it had stored, in one transaction (the live replica sees the whole dead run or none of it).
     */
    private void storeDeadRun(String id, ExecuteRequest request, Plan plan, StepResult stored,
                              List<TaskEvent> storedEvents) throws SQLException {
        try (var c = db.getConnection()) {
            c.setAutoCommit(false);
            try (var ps = c.prepareStatement("INSERT INTO oracle.tasks (task_id, tenant, request_digest, request, "
                    + "task, state, plan, planning_usd, lease_owner, lease_until, attempts, started_at) VALUES "
                    + "(?, ?, 'digest', ?, ?, 'RUNNING', ?, 0, 'dead-replica', now() - interval '1 second', 1, now())")) {
                ps.setString(1, id);
                ps.setString(2, tenant);
                ps.setBytes(3, request.toByteArray());
                ps.setString(4, request.getTask());
                ps.setBytes(5, plan.toByteArray());
                ps.executeUpdate();
            }
            try (var ps = c.prepareStatement("INSERT INTO oracle.task_steps (task_id, step_id, result, "
                    + "oracle_baseline_usd, exploration_usd) VALUES (?, ?, ?, 0.30, 0)")) {
                ps.setString(1, id);
                ps.setString(2, stored.getStepId());
                ps.setBytes(3, stored.toByteArray());
                ps.executeUpdate();
            }
            for (var e : storedEvents) {
                try (var ps = c.prepareStatement("INSERT INTO oracle.task_events VALUES (?, ?, ?)")) {
                    ps.setString(1, id);
                    ps.setLong(2, e.getSequence());
                    ps.setBytes(3, e.toByteArray());
                    ps.executeUpdate();
                }
            }
            c.commit();
        }
    }

    private static TaskEvent.Builder event(String taskId, long sequence) {
        return TaskEvent.newBuilder().setTaskId(taskId).setSequence(sequence);
    }

    private static List<Long> range(long from, long count) {
        var out = new ArrayList<Long>();
        for (long i = from; i < from + count; i++) {
            out.add(i);
        }
        return out;
    }
}
