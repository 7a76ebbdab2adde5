package dev.tandem.oracle.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import dev.tandem.proto.oracle.v1.AuditOutcome;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.SubmitTaskRequest;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.proto.oracle.v1.WatchTaskRequest;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A small command-line client of the public API, used by {@code bin/demo}. Without {@code --task} it streams the
 * bundled sample tasks ({@link SampleTasks}) and prints, per block of tasks, the oracle's review share,
 * escalations and the cost against the all-oracle baseline ({@link DemoStream}). With {@code --task} it sends
 * that one task with {@code ExecuteStream}, prints progress as it arrives, then the plan, each step's routing,
 * confidence and audit decision, and the cost against the all-oracle baseline; with {@code --submit} it submits
 * the task ({@code SubmitTask}, durable, optionally with {@code --idempotency-key}) and follows it with
 * {@code WatchTask}, and {@code --watch ID [--after N]} follows a submitted task again. Plain grpc-java (no
 * Quarkus), so it runs from the oracle's jar class path.
 *
 * <pre>
 * java -cp 'oracle-service/target/quarkus-app/app/*:oracle-service/target/quarkus-app/lib/main/*' \
 *   dev.tandem.oracle.cli.TandemClient --target localhost:8080 --task "Triage this ticket" --input document=@ticket.txt
 * </pre>
 */
public final class TandemClient {

    static {
        // The client runs on the oracle's library class path (lib/main), where SLF4J finds JBoss's binding but not
        // JBoss LogManager (on Quarkus' boot class path only) and would report that on every start. With SLF4J's
        // no-op provider, Netty (the one library here on SLF4J) falls back to java.util.logging like gRPC itself,
        // so real warnings still show. Set before any class that logs is loaded; -D on the command line wins.
        setIfAbsent("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
        setIfAbsent("slf4j.internal.verbosity", "WARN");
    }

    private TandemClient() {
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    public static void main(String[] args) throws Exception {
        String target = "localhost:8080";
        String apiKey = System.getenv("TANDEM_API_KEY");
        long deadlineSeconds = 60;
        var request = ExecuteRequest.newBuilder();
        String tasksFile = null;
        Integer count = null;
        int blockSize = 20;
        boolean tty = false;
        boolean submit = false;
        String idempotencyKey = "";
        String watch = null;
        long after = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--target" -> target = value(args, ++i);
                case "--task" -> request.setTask(value(args, ++i));
                case "--pipeline" -> request.setPipeline(value(args, ++i));
                case "--tenant" -> request.setTenant(value(args, ++i));
                case "--api-key" -> apiKey = value(args, ++i);
                case "--deadline-seconds" -> deadlineSeconds = number(args, ++i);
                case "--input" -> {
                    String[] kv = value(args, ++i).split("=", 2);
                    if (kv.length != 2) {
                        usage("--input takes NAME=VALUE or NAME=@FILE");
                    }
                    request.putInputs(kv[0], kv[1].startsWith("@") ? read(kv[1].substring(1)) : kv[1]);
                }
                case "--tasks" -> tasksFile = value(args, ++i);
                case "--count" -> count = (int) number(args, ++i);
                case "--block" -> blockSize = (int) number(args, ++i);
                case "--tty" -> tty = true;
                case "--submit" -> submit = true;
                case "--idempotency-key" -> idempotencyKey = value(args, ++i);
                case "--watch" -> watch = value(args, ++i);
                case "--after" -> after = number(args, ++i);
                default -> usage("unknown argument " + args[i]);
            }
        }
        boolean stream = request.getTask().isEmpty() && watch == null;
        if (submit && request.getTask().isEmpty()) {
            usage("--submit goes with --task");
        }
        if (!stream && (tasksFile != null || count != null)) {
            usage("--task sends one task; --tasks and --count are for the stream of sample tasks");
        }
        if (stream && request.getInputsCount() > 0) {
            usage("--input goes with --task");
        }
        var channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
        try {
            var stub = OracleServiceGrpc.newBlockingStub(channel);
            if (apiKey != null && !apiKey.isBlank()) {
                var headers = new Metadata();
                headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
                        "Bearer " + apiKey);
                stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
            }
            if (stream) {
                var samples = tasksFile == null ? SampleTasks.bundled() : SampleTasks.read(Path.of(tasksFile));
                var tasks = count == null ? samples.demoStream() : samples.first(count);
                System.out.printf(Locale.ROOT, "Sending %d sample tasks (%s) one after the other, in blocks of %d.%n%n",
                        tasks.size(), tasksFile == null ? "bundled" : tasksFile, blockSize);
                boolean complete = new DemoStream(stub, System.out, tty, deadlineSeconds)
                        .run(tasks, blockSize, request.build());
                if (!complete) {
                    System.exit(1);
                }
            } else if (watch != null || submit) {
                followSubmitted(stub, request, submit, idempotencyKey, watch, after);
            } else {
                var timed = stub.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS);
                runOne(() -> timed.executeStream(request.build()));
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Submits the task and follows it, or follows a task submitted earlier (from the event after {@code after}). */
    private static void followSubmitted(OracleServiceGrpc.OracleServiceBlockingStub stub,
            ExecuteRequest.Builder request, boolean submit, String idempotencyKey, String watch, long after)
            throws InvalidProtocolBufferException {
        var taskId = watch;
        long from = after;
        if (submit) {
            // stored: the task runs even if this client goes away; --watch ID follows it again
            var task = stub.withDeadlineAfter(30, TimeUnit.SECONDS).submitTask(SubmitTaskRequest.newBuilder()
                    .setRequest(request).setIdempotencyKey(idempotencyKey).build()).getTask();
            System.out.printf("submitted task %s (%s); follow it again with --watch %s%n", task.getTaskId(),
                    task.getState(), task.getTaskId());
            taskId = task.getTaskId();
            from = 0;
        }
        var watchRequest = WatchTaskRequest.newBuilder().setTaskId(taskId).setAfterSequence(from)
                .setTenant(request.getTenant()).build();
        runOne(() -> stub.watchTask(watchRequest));
    }

    /**
     * The single-task view: progress events as they arrive (from ExecuteStream, or WatchTask for a submitted task),
     * then the plan, the steps and the cost.
     */
    private static void runOne(Supplier<Iterator<TaskEvent>> stream)
            throws InvalidProtocolBufferException {
        var out = System.out;
        try {
            ExecuteResponse response = null;
            var events = stream.get();
            while (events.hasNext()) {
                TaskEvent event = events.next();
                printEvent(out, event);
                if (event.hasTaskDone()) {
                    response = event.getTaskDone().getResponse();
                }
            }
            if (response == null) {
                System.err.println("the stream ended without a task-done event");
                System.exit(2);
            }
            printSummary(out, response);
        } catch (StatusRuntimeException e) {
            System.err.println("Tandem refused the task: " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
            var status = StatusProto.fromThrowable(e);
            if (status != null) {
                for (var detail : status.getDetailsList()) {
                    if (detail.is(BadRequest.class)) {
                        for (var v : detail.unpack(BadRequest.class).getFieldViolationsList()) {
                            System.err.println("  " + v.getField() + ": " + v.getDescription());
                        }
                    }
                }
            }
            System.exit(1);
        }
    }

    /** True while the answer is being streamed, so deltas print as running text. */
    private static boolean streamingAnswer;

    private static void printEvent(PrintStream out, TaskEvent e) {
        if (e.hasAnswerDelta()) {
            if (!streamingAnswer) {
                out.printf("  [%3d] answer: ", e.getSequence());
                streamingAnswer = true;
            }
            out.print(e.getAnswerDelta().getText());
            out.flush();
            return;
        }
        if (streamingAnswer) {
            out.println();
            streamingAnswer = false;
        }
        String line = switch (e.getEventCase()) {
            case PLAN_READY -> "plan ready: " + e.getPlanReady().getPlan().getStepsCount() + " steps ("
                    + e.getPlanReady().getPlan().getPipeline() + ")";
            case STEP_STARTED -> "step " + e.getStepStarted().getStepId() + " started ("
                    + e.getStepStarted().getWorkerType() + ")";
            case STEP_FINISHED -> String.format(Locale.ROOT, "step %s finished on %s, confidence %.2f",
                    e.getStepFinished().getStepId(), e.getStepFinished().getExecutedBy(),
                    e.getStepFinished().getConfidence());
            case STEP_AUDITED -> "step " + e.getStepAudited().getStepId() + " audit: "
                    + describe(e.getStepAudited().getAudit());
            case STEP_ESCALATED -> "step " + e.getStepEscalated().getStepId() + " escalated to "
                    + e.getStepEscalated().getExecutedBy() + ": " + e.getStepEscalated().getReason();
            case STEP_RERUN -> "step " + e.getStepRerun().getStepId() + " runs again: "
                    + e.getStepRerun().getReason();
            case TASK_DONE -> "task done";
            case ANSWER_DELTA -> "answer";
            case EVENT_NOT_SET -> "event";
        };
        out.printf("  [%3d] %s%n", e.getSequence(), line);
    }

    private static String describe(AuditOutcome a) {
        var s = new StringBuilder(a.getDecision()).append(" (").append(a.getReason());
        if (a.getSamplingProbability() > 0 && a.getSamplingProbability() < 1) {
            s.append(String.format(Locale.ROOT, ", p=%.2f", a.getSamplingProbability()));
        }
        s.append(", ").append(a.getTrustState()).append(')');
        if (!a.getVerdict().isEmpty()) {
            s.append(" -> ").append(a.getVerdict());
            if (!a.getVerdictReason().isEmpty()) {
                s.append(": ").append(a.getVerdictReason());
            }
        }
        return s.toString();
    }

    private static void printSummary(PrintStream out, ExecuteResponse r) {
        out.println();
        out.println("Task " + r.getTaskId());
        out.println("Plan (" + r.getPlan().getPlanner() + "): " + r.getPlan().getRationale());
        for (var step : r.getPlan().getStepsList()) {
            out.printf("  %-18s %-10s after %s%n", step.getId(), step.getWorkerType(),
                    step.getDependsOnCount() == 0 ? "-" : String.join(", ", step.getDependsOnList()));
        }
        out.println();
        out.println("Steps:");
        for (StepResult s : r.getStepsList()) {
            out.printf(Locale.ROOT, "  %-18s %-10s by %-32s confidence %.2f (raw %.2f)  $%.6f%s%n", s.getStepId(),
                    s.getWorkerType(), s.getExecutedBy(), s.getConfidence(), s.getRawConfidence(), s.getCostUsd(),
                    s.getEscalated() ? "  ESCALATED" : "");
            out.println("      routing: " + s.getRouting());
            for (var failed : s.getFailedAttemptsList()) {
                out.println("      failed attempt: " + failed);
            }
            out.println("      audit:   " + describe(s.getAudit()));
        }
        out.println();
        var c = r.getCost();
        out.printf(Locale.ROOT, "Cost: $%.6f actual vs $%.6f all-oracle baseline (%.1f %% saved)%n",
                c.getActualUsd(), c.getAllOracleUsd(), 100 * c.getSavingsFraction());
        long probation = r.getStepsList().stream().filter(s -> s.getAudit().getReason().equals("probation")).count();
        if (probation > 0) {
            out.printf(Locale.ROOT, "  %d of %d steps were reviewed by the oracle because their streams (model x worker "
                    + "type) are new: a stream starts at 100 %% review and earns lower review rates from accepted "
                    + "reviews (audit-service/README.md), so early tasks can cost more than the oracle alone.%n",
                    probation, r.getStepsCount());
        }
        out.println();
        out.println("Answer:");
        out.println(r.getOutput());
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            usage(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static long number(String[] args, int i) {
        try {
            long n = Long.parseLong(value(args, i));
            if (n < 1) {
                usage(args[i - 1] + " takes a positive number");
            }
            return n;
        } catch (NumberFormatException e) {
            usage(args[i - 1] + " takes a number, not " + args[i]);
            return 0;
        }
    }

    private static void usage(String problem) {
        System.err.println(problem);
        System.err.println("usage: TandemClient [--target host:port] --task TEXT [--pipeline NAME] "
                + "[--input NAME=VALUE|NAME=@FILE]... [--tenant T] [--api-key KEY (or env TANDEM_API_KEY)] "
                + "[--deadline-seconds N] [--submit [--idempotency-key K]]");
        System.err.println("   or: TandemClient [--target host:port] --watch TASK_ID [--after SEQUENCE] [--tenant T] "
                + "[--api-key KEY]");
        System.err.println("   or: TandemClient [--target host:port] [--tasks FILE] [--count N] [--block N] [--tty] "
                + "[--pipeline NAME] [--tenant T] [--api-key KEY] [--deadline-seconds N (per task)]");
        System.err.println("       without --task: streams the bundled sample tasks (or FILE's) and prints a table per "
                + "block of N tasks (20)");
        System.exit(64);
    }
}
