package dev.tandem.oracle.grpc;

import dev.tandem.oracle.service.PlanValidator;
import dev.tandem.oracle.service.TaskRunner;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import dev.tandem.proto.oracle.v1.ParallelLevel;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.proto.oracle.v1.ValidatePlanRequest;
import dev.tandem.proto.oracle.v1.ValidatePlanResponse;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.quarkus.virtual.threads.VirtualThreads;
import jakarta.inject.Inject;

import java.util.concurrent.ExecutorService;

/**
 * The client-facing API. Tasks block on downstream calls, so every method runs on a virtual thread; the task's
 * steps then fan out on more virtual threads. The client's deadline is captured here, on the request thread, and
 * handed down explicitly because the step threads do not carry the gRPC context. The methods are not annotated
 * {@code @Blocking}: on the shared HTTP/gRPC server Quarkus 3.27 can then deliver a unary call's half-close
 * before its message ("Half-closed without a request", quarkusio/quarkus#48940), so the work is offloaded here,
 * after the request has arrived.
 */
@GrpcService
public class OracleGrpcService extends OracleServiceGrpc.OracleServiceImplBase {

    @Inject
    @VirtualThreads
    ExecutorService blocking;

    @Inject
    TaskRunner runner;

    @Inject
    PlanValidator validator;

    @Override
    public void execute(ExecuteRequest request, StreamObserver<ExecuteResponse> responses) {
        var deadline = Context.current().getDeadline();
        blocking.execute(() -> execute(request, deadline, responses));
    }

    private void execute(ExecuteRequest request, Deadline deadline, StreamObserver<ExecuteResponse> responses) {
        ExecuteResponse response;
        try {
            response = runner.run(request, deadline, event -> { });
        } catch (RuntimeException e) {
            responses.onError(GrpcErrors.toStatus(e));
            return;
        }
        responses.onNext(response);
        responses.onCompleted();
    }

    @Override
    public void executeStream(ExecuteRequest request, StreamObserver<TaskEvent> events) {
        var deadline = Context.current().getDeadline();
        blocking.execute(() -> executeStream(request, deadline, events));
    }

    private void executeStream(ExecuteRequest request, Deadline deadline, StreamObserver<TaskEvent> events) {
        var observer = (ServerCallStreamObserver<TaskEvent>) events;
        try {
            runner.run(request, deadline, event -> {
                if (!observer.isCancelled()) {
                    observer.onNext(event);
                }
            });
        } catch (RuntimeException e) {
            if (!observer.isCancelled()) {
                observer.onError(GrpcErrors.toStatus(e));
            }
            return;
        }
        observer.onCompleted();
    }

    @Override
    public void validatePlan(ValidatePlanRequest request, StreamObserver<ValidatePlanResponse> responses) {
        var deadline = Context.current().getDeadline();
        blocking.execute(() -> validatePlan(request, deadline, responses));
    }

    private void validatePlan(ValidatePlanRequest request, Deadline deadline,
                              StreamObserver<ValidatePlanResponse> responses) {
        try {
            var graph = validator.validate(request.getPlan(), request.getInputsMap(), deadline);
            var response = ValidatePlanResponse.newBuilder().addAllTopologicalOrder(graph.topologicalOrder());
            graph.levels().forEach(level -> response.addLevels(ParallelLevel.newBuilder().addAllStepIds(level)));
            responses.onNext(response.build());
            responses.onCompleted();
        } catch (RuntimeException e) {
            responses.onError(GrpcErrors.toStatus(e));
        }
    }
}
