package dev.tandem.oracle;

import dev.tandem.oracle.repository.TaskRecord;
import dev.tandem.oracle.repository.TaskRepository;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import dev.tandem.proto.oracle.v1.TaskEvent;
import io.grpc.Context;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.Iterator;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A client that cancels its Execute or ExecuteStream stops the task: it does not run on, unseen and paid, to the end. */
@QuarkusTest
class ClientCancellationTests extends OracleTestBase {

    @Inject
    TaskRepository tasks;

    @Test
    void aStreamCancelledByItsClientMidStepEndsTheTaskAsCancelledWhileTheStepIsStillHeld() {
        router.holdDispatches = true; // no step can finish on its own: only the cancellation can end the task
        var call = Context.current().withCancellation();
        try {
            String taskId = call.call(() -> {
                Iterator<TaskEvent> events = oracle().executeStream(triage());
                String id = null;
                while (events.hasNext()) {
                    var event = events.next();
                    id = event.getTaskId();
                    if (event.hasStepStarted()) {
                        return id;
                    }
                }
                throw new AssertionError("the stream ended before a step started");
            });
            call.cancel(null);

            eventually(() -> {
                var record = tasks.find(taskId).orElseThrow();
                assertThat(record.status()).as("the task, while its steps are still held").isEqualTo(
                        TaskRecord.Status.FAILED);
                assertThat(record.error()).startsWith("CANCELLED");
            });
            assertThat(router.holdDispatches).isTrue();
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            call.cancel(null);
            router.holdDispatches = false;
        }
    }

    @Test
    void aUnaryExecuteCancelledByItsClientMidStepEndsTheTaskAsCancelledWhileTheStepIsStillHeld() throws Exception {
        router.holdDispatches = true;
        try {
            var answer = OracleServiceGrpc.newFutureStub(oracleClient.getChannel())
                    .withDeadlineAfter(30, TimeUnit.SECONDS).execute(triage());
            eventually(() -> assertThat(router.inFlight.get()).as("dispatches held at the router").isPositive());
            String taskId = router.dispatches.get(0).getTaskId();

            answer.cancel(true); // the client gives up: its call is cancelled (RST_STREAM)

            eventually(() -> {
                var record = tasks.find(taskId).orElseThrow();
                assertThat(record.status()).as("the task, while its steps are still held").isEqualTo(
                        TaskRecord.Status.FAILED);
                assertThat(record.error()).startsWith("CANCELLED");
            });
            assertThat(router.holdDispatches).isTrue();
            int dispatched = router.dispatches.size();
            router.holdDispatches = false;
            // no step after the cancel: the held ones end, nothing else is dispatched
            Thread.sleep(300);
            assertThat(router.dispatches).hasSize(dispatched);
        } finally {
            router.holdDispatches = false;
        }
    }
}
