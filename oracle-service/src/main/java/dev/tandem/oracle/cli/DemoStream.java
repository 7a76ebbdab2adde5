package dev.tandem.oracle.cli;

import dev.tandem.oracle.cli.SampleTasks.SampleTask;
import dev.tandem.oracle.cli.StreamTally.Row;
import dev.tandem.oracle.cli.StreamTally.TaskOutcome;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc.OracleServiceBlockingStub;
import io.grpc.StatusRuntimeException;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo's default view: sends a stream of tasks one after the other with {@code Execute} and prints, per block
 * of tasks, how much the oracle reviewed and redid and what the tasks cost against the all-oracle baseline. One at
 * a time on purpose: each task's audit decisions then see every earlier verdict, as a steady trickle of traffic
 * would, and the blocks read as a learning curve.
 */
final class DemoStream {

    /** Failures in a row after which the stream stops: the services are down or refuse everything. */
    static final int MAX_FAILURES_IN_A_ROW = 5;
    /** Failures printed one by one; later ones are only counted. */
    private static final int FAILURES_SHOWN = 5;
    private static final int BAR_WIDTH = 30;

    private final OracleServiceBlockingStub stub;
    private final PrintStream out;
    private final boolean tty;
    private final long deadlineSeconds;

    /**
     * @param tty the output is a terminal: the progress bar redraws in place; otherwise it prints a plain line
     *            now and then, so a log file stays readable
     */
    DemoStream(OracleServiceBlockingStub stub, PrintStream out, boolean tty, long deadlineSeconds) {
        this.stub = stub;
        this.out = out;
        this.tty = tty;
        this.deadlineSeconds = deadlineSeconds;
    }

    /** Runs the stream; returns false when it stopped early. */
    boolean run(List<SampleTask> tasks, int blockSize, ExecuteRequest template) {
        var tally = new StreamTally(blockSize);
        long start = System.nanoTime();
        int failuresInARow = 0;
        int failuresShown = 0;
        Row last = null;
        for (String line : StreamReport.header()) {
            out.println(line);
        }
        int plainEvery = Math.max(1, Math.min(10, blockSize / 2));
        for (int i = 0; i < tasks.size(); i++) {
            var task = tasks.get(i);
            var request = template.toBuilder().setTask(task.task()).putAllInputs(task.inputs()).build();
            TaskOutcome outcome;
            try {
                outcome = TaskOutcome.of(stub.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS).execute(request));
                failuresInARow = 0;
            } catch (StatusRuntimeException e) {
                var why = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
                outcome = TaskOutcome.failed(why);
                failuresInARow++;
                if (failuresShown++ < FAILURES_SHOWN) {
                    line("  task " + (i + 1) + " (" + task.id() + ") failed: " + why);
                }
            }
            var row = tally.add(outcome);
            if (row.isPresent()) {
                last = row.get();
                line(StreamReport.row(last));
            }
            var elapsed = Duration.ofNanos(System.nanoTime() - start);
            if (tty) {
                out.print("\r" + StreamReport.progress(i + 1, tasks.size(), elapsed, BAR_WIDTH) + "\033[K");
                out.flush();
            } else if (row.isEmpty() && (i + 1) % plainEvery == 0 && i + 1 < tasks.size()) {
                out.println(StreamReport.progress(i + 1, tasks.size(), elapsed, BAR_WIDTH));
            }
            if (failuresInARow >= MAX_FAILURES_IN_A_ROW) {
                line("  stopped: " + failuresInARow + " tasks in a row failed");
                break;
            }
        }
        var rest = tally.finish();
        if (rest.isPresent()) {
            last = rest.get();
            line(StreamReport.row(last));
        }
        line("");
        out.println(StreamReport.summary(tally.cumulative(), last, tally.dearestWindow().orElse(null),
                Duration.ofNanos(System.nanoTime() - start)));
        return tally.cumulative().tasks() == tasks.size();
    }

    /** Prints a whole line; on a terminal it first wipes the progress bar, which the next task redraws. */
    private void line(String text) {
        if (tty) {
            out.print("\r\033[K");
        }
        out.println(text);
    }
}
