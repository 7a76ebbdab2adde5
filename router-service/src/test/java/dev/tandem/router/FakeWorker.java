package dev.tandem.router;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.ListWorkerTypesRequest;
import dev.tandem.proto.worker.v1.ListWorkerTypesResponse;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.proto.worker.v1.ValidationReport;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import dev.tandem.proto.worker.v1.WorkerTypeInfo;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * A scripted WorkerService for one fake pool. Its output echoes the model it was asked for and the deadline it
 * received, so tests can see routing and deadline propagation from the router's response alone.
 */
public class FakeWorker extends WorkerServiceGrpc.WorkerServiceImplBase {

    /** How the pool behaves. */
    public enum Mode {
        /** Answers every call. */
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

    private final Mode mode;
    private final CountDownLatch release = new CountDownLatch(1);

    public FakeWorker(Mode mode) {
        this.mode = mode;
    }

    @Override
    public void executeStep(ExecuteStepRequest request, StreamObserver<ExecuteStepResponse> observer) {
        switch (mode) {
            case UNAVAILABLE -> {
                observer.onError(Status.UNAVAILABLE.withDescription("fake pool down").asRuntimeException());
                return;
            }
            case INVALID -> {
                observer.onError(Status.INVALID_ARGUMENT.withDescription("input 'text' is required")
                        .asRuntimeException());
                return;
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
        Deadline deadline = Context.current().getDeadline();
        long deadlineMs = deadline == null ? -1 : deadline.timeRemaining(TimeUnit.MILLISECONDS);
        observer.onNext(ExecuteStepResponse.newBuilder()
                .setOutput("{\"model\":\"" + request.getModelId() + "\",\"attempt\":" + request.getAttempt()
                        + ",\"deadline_ms\":" + deadlineMs + "}")
                .setConfidence(0.9)
                .setRawConfidence(0.9)
                .setConfidenceMethod("fake")
                .setValidation(ValidationReport.newBuilder().setPassed(true))
                .setUsage(TokenUsage.newBuilder().setInputTokens(INPUT_TOKENS).setOutputTokens(OUTPUT_TOKENS))
                .setModelId(request.getModelId())
                .build());
        observer.onCompleted();
    }

    @Override
    public void reviewStep(ReviewStepRequest request, StreamObserver<ReviewStepResponse> observer) {
        if (mode != Mode.STEADY) {
            observer.onError(Status.UNAVAILABLE.withDescription("fake pool down").asRuntimeException());
            return;
        }
        observer.onNext(ReviewStepResponse.newBuilder()
                .setVerdict(ReviewVerdict.REVIEW_VERDICT_ACCEPTED)
                .setReason("matches the reviewer's answer")
                .setReviewerOutput(request.getCandidateOutput())
                .setConfidence(0.95)
                .setUsage(TokenUsage.newBuilder().setInputTokens(INPUT_TOKENS).setOutputTokens(OUTPUT_TOKENS))
                .setModelId(request.getModelId())
                .build());
        observer.onCompleted();
    }

    @Override
    public void listWorkerTypes(ListWorkerTypesRequest request, StreamObserver<ListWorkerTypesResponse> observer) {
        if (mode == Mode.UNAVAILABLE) {
            observer.onError(Status.UNAVAILABLE.withDescription("fake pool down").asRuntimeException());
            return;
        }
        observer.onNext(ListWorkerTypesResponse.newBuilder()
                .addWorkerTypes(WorkerTypeInfo.newBuilder().setName("classify").setDescription("labels a text")
                        .addRequiredInputs("text").addRequiredCapabilities("embedding"))
                .build());
        observer.onCompleted();
    }
}
