package dev.tandem.oracle.cli;

import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.TaskEvent;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A small command-line client of the public API, used by {@code bin/demo}: sends one task with
 * {@code ExecuteStream}, prints progress as it arrives, then the plan, each step's routing, confidence and audit
 * decision, and the cost against the all-oracle baseline. Plain grpc-java (no Quarkus), so it runs from the
 * oracle's jar class path.
 *
 * <pre>
 * java -cp 'oracle-service/target/quarkus-app/app/*:oracle-service/target/quarkus-app/lib/main/*' \
 *   dev.tandem.oracle.cli.TandemClient --target localhost:8080 --task "Triage this ticket" --input document=@ticket.txt
 * </pre>
 */
public final class TandemClient {

    private TandemClient() {
    }

    public static void main(String[] args) throws Exception {
        String target = "localhost:8080";
        String apiKey = System.getenv("TANDEM_API_KEY");
        long deadlineSeconds = 60;
        var request = ExecuteRequest.newBuilder();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--target" -> target = args[++i];
                case "--task" -> request.setTask(args[++i]);
                case "--pipeline" -> request.setPipeline(args[++i]);
                case "--tenant" -> request.setTenant(args[++i]);
                case "--api-key" -> apiKey = args[++i];
                case "--deadline-seconds" -> deadlineSeconds = Long.parseLong(args[++i]);
                case "--input" -> {
                    String[] kv = args[++i].split("=", 2);
                    if (kv.length != 2) {
                        usage("--input takes NAME=VALUE or NAME=@FILE");
                    }
                    request.putInputs(kv[0], kv[1].startsWith("@") ? read(kv[1].substring(1)) : kv[1]);
                }
                default -> usage("unknown argument " + args[i]);
            }
        }
        var channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
        var out = System.out;
        try {
            var stub = OracleServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS);
            if (apiKey != null && !apiKey.isBlank()) {
                var headers = new io.grpc.Metadata();
                headers.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER),
                        "Bearer " + apiKey);
                stub = stub.withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers));
            }
            ExecuteResponse response = null;
            var events = stub.executeStream(request.build());
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
                    if (detail.is(com.google.rpc.BadRequest.class)) {
                        for (var v : detail.unpack(com.google.rpc.BadRequest.class).getFieldViolationsList()) {
                            System.err.println("  " + v.getField() + ": " + v.getDescription());
                        }
                    }
                }
            }
            System.exit(1);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
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
            case TASK_DONE -> "task done";
            case ANSWER_DELTA -> "answer";
            case EVENT_NOT_SET -> "event";
        };
        out.printf("  [%3d] %s%n", e.getSequence(), line);
    }

    private static String describe(dev.tandem.proto.oracle.v1.AuditOutcome a) {
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

    private static void usage(String problem) {
        System.err.println(problem);
        System.err.println("usage: TandemClient [--target host:port] --task TEXT [--pipeline NAME] "
                + "[--input NAME=VALUE|NAME=@FILE]... [--tenant T] [--api-key KEY (or env TANDEM_API_KEY)] "
                + "[--deadline-seconds N]");
        System.exit(64);
    }
}
