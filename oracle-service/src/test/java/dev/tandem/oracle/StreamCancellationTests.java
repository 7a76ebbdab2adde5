package dev.tandem.oracle;

import dev.tandem.oracle.repository.TaskRecord;
import dev.tandem.oracle.repository.TaskRepository;
import dev.tandem.proto.oracle.v1.TaskEvent;
import io.grpc.Context;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.Iterator;

import static org.assertj.core.api.Assertions.assertThat;

/** A client that cancels its ExecuteStream stops the task: it does not run on, unseen, to the end. */
@QuarkusTest
class StreamCancellationTests extends OracleTestBase {

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
}
