package dev.tandem.fakes;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.GateResult;
import dev.tandem.proto.worker.v1.ListWorkerTypesRequest;
import dev.tandem.proto.worker.v1.ListWorkerTypesResponse;
import dev.tandem.proto.worker.v1.MutinyWorkerServiceGrpc;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.proto.worker.v1.ValidationReport;
import dev.tandem.proto.worker.v1.WorkerTypeInfo;
import dev.tandem.proto.worker.v1.WorkflowPhase;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.smallrye.mutiny.Uni;

/**
 * A scripted WorkerService for one fake pool. Its output echoes the model it was asked for, the attempt and the
 * deadline it received, so tests can see routing and deadline propagation from the router's response alone.
 * <p>
 * In STEADY mode the model id scripts the behaviour, so one pool can play every failure:
 * {@code *-unavailable}, {@code *-deadline}, {@code *-ratelimited} (RESOURCE_EXHAUSTED with a 400 ms RetryInfo),
 * {@code *-status-<code>} (e.g. {@code -status-permission_denied}), {@code *-lowconf} (confidence 0.2),
 * {@code cal-small} (answers as a worker of the first v1 that sent its raw confidence only in the since deprecated
 * {@code confidence} field; every other model sends only {@code raw_confidence}, as workers do now),
 * {@code *-invalid-output} (a validation gate fails), {@code *-slow} (answers after 1.5 s, or when cancelled),
 * {@code *-hang} (answers only after 30 s; {@link #hangingCalls} and {@link #cancelledHangingCalls} count its calls),
 * {@code *-flaky-once} (UNAVAILABLE on the first call of each step, then fine), {@code *-switch} (fails while the
 * pool's switch is off; a step of worker type {@code fake-control} with input {@code fail=true|false} flips it).
 */
@SuppressWarnings("deprecation") // plays a worker of the first v1 too
public class FakeWorker extends MutinyWorkerServiceGrpc.WorkerServiceImplBase {

    /** How the pool behaves. */
    public enum Mode {
        /** Answers every call (behaviour scripted by the model id). */
        STEADY,
        /** Every call fails with UNAVAILABLE. */
        UNAVAILABLE,
        /** Every step is rejected as the caller's fault. */
        INVALID,
        /** Steps wait until a step of worker type "release" arrives directly at this fake. */
        HOLD
    }

    public static final long INPUT_TOKENS = 100;
    public static final long OUTPUT_TOKENS = 20;
    /** What a {@code *-billed} model's provider says a call cost. */
    public static final double REPORTED_COST_USD = 0.0042;

    private final Mode mode;
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicBoolean switchFailing = new AtomicBoolean();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    /** Answers of keyed calls by their idempotency_key, replayed to a repeat as the worker's record does. */
    private final Map<String, ExecuteStepResponse> keyed = new ConcurrentHashMap<>();
    private final String replica;
    /** Calls of {@code *-hang} models received and those whose caller cancelled them, by model (every fake). */
    private static final Map<String, AtomicInteger> HANGING = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> HANGING_CANCELLED = new ConcurrentHashMap<>();

    public FakeWorker(Mode mode) {
        this(mode, "");
    }

    /** A fake that names itself in its outputs ({@code "replica"}): one of several replicas of a pool. */
    public FakeWorker(Mode mode, String replica) {
        this.mode = mode;
        this.replica = replica;
    }

    /** Calls of the {@code *-hang} model {@code model} received so far, by every fake in this JVM. */
    public static int hangingCalls(String model) {
        return HANGING.computeIfAbsent(model, k -> new AtomicInteger()).get();
    }

    /** Calls of the {@code *-hang} model {@code model} that ended because their caller cancelled them. */
    public static int cancelledHangingCalls(String model) {
        return HANGING_CANCELLED.computeIfAbsent(model, k -> new AtomicInteger()).get();
    }

    /**
     * The worker's contract for keyed calls, without the join of a call in flight: a repeat of a key answered
     * before gets that answer (from_checkpoint set), and the model is not called again.
     */
    @Override
    public Uni<ExecuteStepResponse> executeStep(ExecuteStepRequest request) {
        String key = request.getIdempotencyKey();
        ExecuteStepResponse kept = key.isEmpty() ? null : keyed.get(key);
        if (kept != null) {
            return Uni.createFrom().item(kept.toBuilder().setFromCheckpoint(true).build());
        }
        return run(request).invoke(answer -> {
            if (!key.isEmpty()) {
                keyed.put(key, answer);
            }
        });
    }

    private Uni<ExecuteStepResponse> run(ExecuteStepRequest request) {
        if (request.getWorkerType().equals("fake-control")) {
            switchFailing.set(Boolean.parseBoolean(request.getInputsOrDefault("fail", "false")));
            return Uni.createFrom().item(ExecuteStepResponse.newBuilder().setOutput("{}").build());
        }
        String model = request.getModelId();
        int call = calls.computeIfAbsent(request.getTaskId() + "/" + request.getStepId() + "/" + model,
                k -> new AtomicInteger()).incrementAndGet();
        switch (mode) {
            case UNAVAILABLE -> {
                return failure(Status.UNAVAILABLE, "fake pool down");
            }
            case INVALID -> {
                return failure(Status.INVALID_ARGUMENT, "input 'text' is required");
            }
            case HOLD -> {
                if (request.getWorkerType().equals("release")) {
                    release.countDown();
                } else {
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            default -> {
            }
        }
        if (model.endsWith("-unavailable") || (model.endsWith("-switch") && switchFailing.get())
                || (model.endsWith("-flaky-once") && call == 1)) {
            return failure(Status.UNAVAILABLE, "model server refused the connection");
        }
        if (model.endsWith("-deadline")) {
            return failure(Status.DEADLINE_EXCEEDED, "model call timed out");
        }
        if (model.endsWith("-ratelimited")) {
            com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                    .setCode(Code.RESOURCE_EXHAUSTED.getNumber())
                    .setMessage("429 from the provider: rate limit reached")
                    .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(
                            Duration.newBuilder().setNanos(400_000_000)).build()))
                    .build();
            return Uni.createFrom().failure(StatusProto.toStatusRuntimeException(status));
        }
        int statusAt = model.indexOf("-status-");
        if (statusAt >= 0) {
            Status.Code code = Status.Code.valueOf(model.substring(statusAt + "-status-".length())
                    .toUpperCase(Locale.ROOT));
            return failure(Status.fromCode(code), "scripted " + code);
        }
        if (model.endsWith("-slow") || model.endsWith("-hang")) {
            boolean hang = model.endsWith("-hang");
            if (hang) {
                HANGING.computeIfAbsent(model, k -> new AtomicInteger()).incrementAndGet();
            }
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(hang ? 30_000 : 1500);
            while (System.nanoTime() < until && !Context.current().isCancelled()) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Uni.createFrom().nothing();
                }
            }
            if (Context.current().isCancelled()) {
                if (hang) {
                    HANGING_CANCELLED.computeIfAbsent(model, k -> new AtomicInteger()).incrementAndGet();
                }
                return Uni.createFrom().nothing(); // the caller is gone: nobody to answer
            }
        }
        boolean lowConfidence = model.endsWith("-lowconf");
        boolean invalidOutput = model.endsWith("-invalid-output");
        Deadline deadline = Context.current().getDeadline();
        long deadlineMs = deadline == null ? -1 : deadline.timeRemaining(TimeUnit.MILLISECONDS);
        double confidence = lowConfidence ? 0.2 : 0.9;
        ExecuteStepResponse.Builder scored = ExecuteStepResponse.newBuilder();
        if (model.equals("cal-small")) {
            scored.setConfidence(confidence);
        } else {
            scored.setRawConfidence(confidence);
        }
        return Uni.createFrom().item(scored
                .setOutput("{\"model\":\"" + model + "\",\"attempt\":" + request.getAttempt()
                        + ",\"deadline_ms\":" + deadlineMs + ",\"call\":" + call
                        + (replica.isEmpty() ? "" : ",\"replica\":\"" + replica + "\"")
                        + (request.getIdempotencyKey().isEmpty() ? ""
                                : ",\"key\":\"" + request.getIdempotencyKey() + "\"") + "}")
                .setConfidenceMethod("fake")
                .setValidation(ValidationReport.newBuilder().setPassed(!invalidOutput)
                        .addGates(GateResult.newBuilder().setName("schema").setPassed(!invalidOutput)))
                .setUsage(usage(model))
                .setModelId(model)
                .setLatencyMs(500)
                .addPhases(WorkflowPhase.newBuilder().setName("implement").setDurationMs(400))
                .build());
    }

    /** The step's tokens; a model named {@code *-billed} also reports what its provider billed. */
    private static TokenUsage usage(String model) {
        TokenUsage.Builder usage = TokenUsage.newBuilder().setInputTokens(INPUT_TOKENS).setOutputTokens(OUTPUT_TOKENS);
        if (model.endsWith("-billed")) {
            usage.setReportedCostUsd(REPORTED_COST_USD);
        }
        return usage.build();
    }

    @Override
    public Uni<ReviewStepResponse> reviewStep(ReviewStepRequest request) {
        if (mode != Mode.STEADY) {
            return failure(Status.UNAVAILABLE, "fake pool down");
        }
        boolean reject = request.getCandidateOutput().contains("wrong");
        int call = calls.computeIfAbsent("review/" + request.getTaskId() + "/" + request.getStepId() + "/"
                + request.getModelId(), k -> new AtomicInteger()).incrementAndGet();
        return Uni.createFrom().item(ReviewStepResponse.newBuilder()
                .setVerdict(reject ? ReviewVerdict.REVIEW_VERDICT_REJECTED : ReviewVerdict.REVIEW_VERDICT_ACCEPTED)
                .setReason((reject ? "differs from the reviewer's answer" : "matches the reviewer's answer")
                        + " (call " + call + ")")
                .setReviewerOutput(request.getCandidateOutput())
                .setConfidence(0.95)
                .setUsage(TokenUsage.newBuilder().setInputTokens(INPUT_TOKENS).setOutputTokens(OUTPUT_TOKENS))
                .setModelId(request.getModelId())
                .build());
    }

    @Override
    public Uni<ListWorkerTypesResponse> listWorkerTypes(ListWorkerTypesRequest request) {
        if (mode == Mode.UNAVAILABLE) {
            return failure(Status.UNAVAILABLE, "fake pool down");
        }
        return Uni.createFrom().item(ListWorkerTypesResponse.newBuilder()
                .addWorkerTypes(WorkerTypeInfo.newBuilder().setName("classify").setDescription("labels a text")
                        .addRequiredInputs("text").addRequiredCapabilities("embedding"))
                .build());
    }

    private static <T> Uni<T> failure(Status status, String description) {
        return Uni.createFrom().failure(status.withDescription(description).asRuntimeException());
    }
}
