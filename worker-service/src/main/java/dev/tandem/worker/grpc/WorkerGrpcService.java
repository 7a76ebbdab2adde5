package dev.tandem.worker.grpc;

import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;
import dev.tandem.models.ModelSpec;
import dev.tandem.models.registry.ModelRegistry;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.LatencyClass;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.ListWorkerTypesRequest;
import dev.tandem.proto.worker.v1.ListWorkerTypesResponse;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.WorkerService;
import dev.tandem.worker.mapping.StepMapper;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.worker.service.KeyedCalls;
import dev.tandem.worker.service.StepException;
import dev.tandem.worker.service.StepReviewer;
import dev.tandem.worker.service.StepWorkflow;
import dev.tandem.worker.service.WorkerTypeCatalog;
import dev.tandem.models.chat.CallDeadline;
import dev.tandem.worker.config.TandemConfig;
import dev.tandem.grpc.CallRunner;
import io.grpc.Context;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.quarkus.virtual.threads.VirtualThreads;
import io.smallrye.mutiny.Uni;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * gRPC entry point of the worker. Model inference blocks, so calls run on virtual threads. The methods are not
 * annotated {@code @Blocking}: on the shared HTTP/gRPC server Quarkus 3.27 can then deliver a unary call's
 * half-close before its message ("Half-closed without a request", quarkusio/quarkus#48940), so the work is
 * offloaded here, after the request has arrived.
 */
@GrpcService
public class WorkerGrpcService implements WorkerService {

    /** How much earlier than this server a caller may see its deadline pass (transit of the reset). */
    private static final long DEADLINE_SKEW_MS = 100;
    /** Longest wait for a provider batch: far beyond any provider's completion window (24 h). */
    private static final Duration LONGEST_BATCH_WAIT = Duration.ofDays(365);
    /** A default grpc-java client's largest inbound message (the router's channel keeps the default). */
    private static final int MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

    private final StepWorkflow workflow;
    private final StepReviewer reviewer;
    private final WorkerTypeCatalog catalog;
    private final TandemConfig config;
    private final ModelRegistry models;

    private final CallRunner calls;
    private final KeyedCalls keyed;

    public WorkerGrpcService(@VirtualThreads ExecutorService blocking, StepWorkflow workflow, StepReviewer reviewer,
            WorkerTypeCatalog catalog, TandemConfig config, ModelRegistry models, KeyedCalls keyed) {
        this.keyed = keyed;
        this.models = models;
        this.workflow = workflow;
        this.reviewer = reviewer;
        this.catalog = catalog;
        this.config = config;
        this.calls = new CallRunner(blocking, GrpcErrors::toStatus);
    }

    @Override
    public Uni<ExecuteStepResponse> executeStep(ExecuteStepRequest request) {
        boolean batch = request.getLatencyClass() == LatencyClass.LATENCY_CLASS_BATCH;
        var deadline = callDeadline(batch, request.getBatchDeadline());
        return withTaskId(request.getTaskId(), deadline, () -> {
            requireReadable(request.getLatencyClass(), request.hasBatchDeadline(), request.getBatchDeadline());
            var key = request.getIdempotencyKey();
            requireKeyLength(key);
            if (key.isEmpty()) {
                return execute(request, deadline, batch);
            }
            // a repeat from a restarted router numbers its attempts anew; the batch window is the task's either way
            var fingerprinted = request.toBuilder().clearIdempotencyKey().clearAttempt().clearBatchDeadline().build();
            return keyed.call("execute", key, request.getTaskId(), fingerprinted, deadline,
                    own -> execute(request, own, batch), r -> r.toBuilder().setFromCheckpoint(true).build());
        });
    }

    private ExecuteStepResponse execute(ExecuteStepRequest request, CallDeadline deadline, boolean batch) {
        return deliverable(batchPriced(StepMapper.toResponse(workflow.execute(StepMapper.toCommand(request,
                deadline))), batch), request.getModelId());
    }

    @Override
    public Uni<ReviewStepResponse> reviewStep(ReviewStepRequest request) {
        boolean batch = request.getLatencyClass() == LatencyClass.LATENCY_CLASS_BATCH;
        var deadline = callDeadline(batch, request.getBatchDeadline());
        return withTaskId(request.getTaskId(), deadline, () -> {
            requireReadable(request.getLatencyClass(), request.hasBatchDeadline(), request.getBatchDeadline());
            var key = request.getIdempotencyKey();
            requireKeyLength(key);
            if (key.isEmpty()) {
                return review(request, deadline, batch);
            }
            var fingerprinted = request.toBuilder().clearIdempotencyKey().clearBatchDeadline().build();
            return keyed.call("review", key, request.getTaskId(), fingerprinted, deadline,
                    own -> review(request, own, batch), r -> r);
        });
    }

    private ReviewStepResponse review(ReviewStepRequest request, CallDeadline deadline, boolean batch) {
        var response = StepMapper.toResponse(reviewer.review(StepMapper.toCommand(request, deadline)));
        return deliverable(batch && batchPath(response.getModelId()) ? response.toBuilder()
                .setUsage(response.getUsage().toBuilder().setBatch(true)).build() : response, request.getModelId());
    }

    /**
     * A response a default grpc-java client takes (4 MiB). A model whose answer ignores its token limit (a server
     * or recording gone wrong) made one larger: the router's client failed the call RESOURCE_EXHAUSTED and benched
     * the worker as rate limited. Such an answer is the model's failure, UNAVAILABLE like a malformed one.
     */
    private <T extends Message> T deliverable(T response, String modelId) {
        int size = response.getSerializedSize();
        if (size <= MAX_RESPONSE_BYTES) {
            return response;
        }
        var spec = models.find(modelId);
        var metadata = new LinkedHashMap<String, String>();
        metadata.put("model", modelId);
        spec.ifPresent(m -> metadata.put("provider", m.provider().name().toLowerCase(Locale.ROOT)));
        throw new StepException(StepException.Reason.UNAVAILABLE, "model " + modelId + " answered " + size
                + " bytes, more than the " + MAX_RESPONSE_BYTES + " a caller accepts", List.of(), null,
                new StepException.ErrorInfo("UNAVAILABLE", metadata), null);
    }

    /**
     * A latency class of a newer contract would run as a standard call, billed and timed as one: refused instead. A
     * batch deadline outside google.protobuf.Timestamp's range is no time at all (the time left was computed from
     * it, wrapped round, and read as passed).
     */
    private static void requireReadable(LatencyClass latencyClass, boolean hasBatchDeadline, Timestamp batchDeadline) {
        var violations = new ArrayList<FieldViolation>();
        if (latencyClass == LatencyClass.UNRECOGNIZED) {
            violations.add(new FieldViolation("latency_class", "unknown latency class; known: "
                    + Arrays.stream(LatencyClass.values()).filter(c -> c != LatencyClass.UNRECOGNIZED).toList()));
        }
        if (hasBatchDeadline && !Timestamps.isValid(batchDeadline)) {
            violations.add(new FieldViolation("batch_deadline", "must be a valid google.protobuf.Timestamp (years 1 "
                    + "to 9999, nanos from 0 to 999,999,999)"));
        }
        if (!violations.isEmpty()) {
            throw StepException.invalid(violations);
        }
    }

    private static void requireKeyLength(String key) {
        if (key.length() > KeyedCalls.MAX_KEY_CHARS) {
            throw StepException.invalid(List.of(new FieldViolation("idempotency_key", "must be at most "
                    + KeyedCalls.MAX_KEY_CHARS + " characters")));
        }
    }

    /**
     * A BATCH-class step's response on a model with a batch path says so in its usage: the router bills it at the
     * batch prices (the call went through the provider's batch API, or, for an embedded or replay model, ran at
     * once at the batch prices its catalog entry declares).
     */
    private ExecuteStepResponse batchPriced(ExecuteStepResponse response, boolean batch) {
        return batch && batchPath(response.getModelId()) ? response.toBuilder()
                .setUsage(response.getUsage().toBuilder().setBatch(true)).build() : response;
    }

    private boolean batchPath(String modelId) {
        return models.find(modelId).map(ModelSpec::batch).orElse(false);
    }

    @Override
    public Uni<ListWorkerTypesResponse> listWorkerTypes(ListWorkerTypesRequest request) {
        var response = ListWorkerTypesResponse.newBuilder();
        catalog.all().forEach(t -> response.addWorkerTypes(StepMapper.toInfo(t.definition())));
        return Uni.createFrom().item(response.build());
    }

    /**
     * This call's deadline for the model: the caller's gRPC deadline, at most {@code tandem.worker.max-step-time}
     * away, cancelled when the caller cancels. Read here, on the call's thread, where the gRPC context is current.
     */
    private CallDeadline callDeadline(boolean batch, Timestamp batchDeadline) {
        var context = Context.current();
        // a BATCH-class call waits for the provider's batch: up to the task's batch deadline, not max-step-time (an
        // invalid one is refused on the call's thread: here it only must not fail)
        var cap = batch && batchDeadline.getSeconds() > 0 && Timestamps.isValid(batchDeadline)
                ? batchWindow(batchDeadline) : config.worker().maxStepTime();
        var callers = context.getDeadline();
        var timeout = callers == null ? cap : min(cap,
                Duration.ofNanos(Math.max(0, callers.timeRemaining(TimeUnit.NANOSECONDS))));
        var deadline = batch ? CallDeadline.deferred(timeout) : CallDeadline.after(timeout);
        context.addListener(cancelled -> {
            var cause = cancelled.cancellationCause();
            if (cause == null) {
                return; // the call ended normally (CallerDeadlineInterceptor releases its context): nothing to stop
            }
            // A caller whose deadline passes resets the call a little before this server's clock gets there (the
            // deadline travels as a relative timeout): a cancellation that close to the deadline is the deadline.
            boolean deadlinePassed = cause instanceof TimeoutException
                    || Status.fromThrowable(cause).getCode() == Status.Code.DEADLINE_EXCEEDED
                    || callers != null && callers.timeRemaining(TimeUnit.MILLISECONDS) <= DEADLINE_SKEW_MS;
            if (deadlinePassed) {
                deadline.expire();
            } else {
                deadline.cancel("the caller cancelled the call");
            }
        }, Runnable::run);
        return deadline;
    }

    /**
     * The time until a batch deadline, at most {@link #LONGEST_BATCH_WAIT}: deadlines are counted in nanoseconds of a
     * long, which a deadline centuries away overflowed (the call failed UNKNOWN).
     */
    private static Duration batchWindow(Timestamp batchDeadline) {
        var left = Duration.between(Instant.now(), Instant.ofEpochSecond(batchDeadline.getSeconds(),
                batchDeadline.getNanos()));
        return left.isNegative() ? Duration.ZERO : min(left, LONGEST_BATCH_WAIT);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /**
     * Runs a call on a virtual thread with the task id in the log context and failures turned into statuses; not at
     * all once the caller's deadline has passed, and stopped when the caller cancels.
     */
    private <T> Uni<T> withTaskId(String taskId, CallDeadline deadline, Callable<T> call) {
        return calls.onVirtualThread(taskId, () -> {
            if (deadline.expired()) {
                throw new StepException(StepException.Reason.DEADLINE_EXCEEDED, "the caller's deadline has passed");
            }
            return call.call();
        }).onCancellation().invoke(() -> {
            if (!deadline.expired()) {
                deadline.cancel("the caller cancelled the call");
            }
        });
    }
}
