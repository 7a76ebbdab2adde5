package dev.tandem.worker.grpc;

import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.ListWorkerTypesRequest;
import dev.tandem.proto.worker.v1.ListWorkerTypesResponse;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.WorkerService;
import dev.tandem.worker.mapping.StepMapper;
import dev.tandem.worker.service.StepException;
import dev.tandem.worker.service.StepReviewer;
import dev.tandem.worker.service.StepWorkflow;
import dev.tandem.worker.service.WorkerTypeCatalog;
import io.grpc.Context;
import io.quarkus.grpc.GrpcService;
import io.quarkus.virtual.threads.VirtualThreads;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import org.jboss.logging.MDC;

import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/**
 * gRPC entry point of the worker. Model inference blocks, so calls run on virtual threads. The methods are not
 * annotated {@code @Blocking}: on the shared HTTP/gRPC server Quarkus 3.27 can then deliver a unary call's
 * half-close before its message ("Half-closed without a request", quarkusio/quarkus#48940), so the work is
 * offloaded here, after the request has arrived.
 */
@GrpcService
public class WorkerGrpcService implements WorkerService {

    @Inject
    @VirtualThreads
    ExecutorService blocking;

    @Inject
    StepWorkflow workflow;
    @Inject
    StepReviewer reviewer;
    @Inject
    WorkerTypeCatalog catalog;

    @Override
    public Uni<ExecuteStepResponse> executeStep(ExecuteStepRequest request) {
        return withTaskId(request.getTaskId(),
                () -> StepMapper.toResponse(workflow.execute(StepMapper.toCommand(request))));
    }

    @Override
    public Uni<ReviewStepResponse> reviewStep(ReviewStepRequest request) {
        return withTaskId(request.getTaskId(),
                () -> StepMapper.toResponse(reviewer.review(StepMapper.toCommand(request))));
    }

    @Override
    public Uni<ListWorkerTypesResponse> listWorkerTypes(ListWorkerTypesRequest request) {
        var response = ListWorkerTypesResponse.newBuilder();
        catalog.all().forEach(t -> response.addWorkerTypes(StepMapper.toInfo(t.definition())));
        return Uni.createFrom().item(response.build());
    }

    /** Runs a call on a virtual thread with the task id in the MDC and failures turned into statuses. */
    private <T> Uni<T> withTaskId(String taskId, Supplier<T> call) {
        var deadline = Context.current().getDeadline();
        return Uni.createFrom().item(() -> {
            if (!taskId.isBlank()) {
                MDC.put("taskId", taskId);
            }
            try {
                if (deadline != null && deadline.isExpired()) {
                    throw new StepException(StepException.Reason.DEADLINE_EXCEEDED,
                            "the caller's deadline has passed");
                }
                return call.get();
            } catch (RuntimeException e) {
                throw GrpcErrors.toStatus(e);
            } finally {
                MDC.remove("taskId");
            }
        }).runSubscriptionOn(blocking);
    }
}
