package dev.tandem.oracle.grpc;

import dev.tandem.oracle.security.Caller;
import dev.tandem.oracle.security.ClientAccess;
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

import java.util.Optional;
import java.util.concurrent.ExecutorService;

/**
 * The client-facing API. Every call is admitted first (API key → tenant, the tenant's rate limit), then runs on a
 * virtual thread; the task's steps fan out on more virtual threads. The client's deadline and key are read here,
 * on the request thread, and handed down explicitly because the worker threads do not carry the gRPC context.
 * The methods are not annotated {@code @Blocking}: on the shared HTTP/gRPC server Quarkus 3.27 can then deliver a
 * unary call's half-close before its message ("Half-closed without a request", quarkusio/quarkus#48940), so the
 * work is offloaded here, after the request has arrived.
 */
@GrpcService
public class OracleGrpcService extends OracleServiceGrpc.OracleServiceImplBase {

    @Inject
    @VirtualThreads
    ExecutorService blocking;

    /** The task runs on another thread than the call arrived on: it keeps the call's trace context. */
    @jakarta.annotation.PostConstruct
    void keepTraceContext() {
        blocking = io.opentelemetry.context.Context.taskWrapping(blocking);
    }

    @Inject
    TaskRunner runner;

    @Inject
    PlanValidator validator;

    @Inject
    ClientAccess access;

    @Override
    public void execute(ExecuteRequest request, StreamObserver<ExecuteResponse> responses) {
        var deadline = Context.current().getDeadline();
        var key = CallerCredentialsInterceptor.presentedKey();
        blocking.execute(() -> {
            ExecuteResponse response;
            try (var place = access.runningTask()) {
                response = runner.run(admitted(request, key), deadline, event -> { });
            } catch (RuntimeException | Error e) {
                // Errors too: an unanswered call would hang the client until its deadline
                responses.onError(GrpcErrors.toStatus(e));
                return;
            }
            responses.onNext(response);
            responses.onCompleted();
        });
    }

    @Override
    public void executeStream(ExecuteRequest request, StreamObserver<TaskEvent> events) {
        var deadline = Context.current().getDeadline();
        var key = CallerCredentialsInterceptor.presentedKey();
        var observer = (ServerCallStreamObserver<TaskEvent>) events;
        blocking.execute(() -> {
            try (var place = access.runningTask()) {
                runner.run(admitted(request, key), deadline, event -> {
                    if (!observer.isCancelled()) {
                        observer.onNext(event);
                    }
                });
            } catch (RuntimeException | Error e) {
                if (!observer.isCancelled()) {
                    observer.onError(GrpcErrors.toStatus(e));
                }
                return;
            }
            observer.onCompleted();
        });
    }

    @Override
    public void validatePlan(ValidatePlanRequest request, StreamObserver<ValidatePlanResponse> responses) {
        Deadline deadline = Context.current().getDeadline();
        var key = CallerCredentialsInterceptor.presentedKey();
        blocking.execute(() -> {
            try {
                access.authenticate(key, "");
                var graph = validator.validate(request.getPlan(), request.getInputsMap(), deadline);
                var response = ValidatePlanResponse.newBuilder().addAllTopologicalOrder(graph.topologicalOrder());
                graph.levels().forEach(level -> response.addLevels(ParallelLevel.newBuilder().addAllStepIds(level)));
                responses.onNext(response.build());
                responses.onCompleted();
            } catch (RuntimeException | Error e) {
                responses.onError(GrpcErrors.toStatus(e));
            }
        });
    }

    /** The request as it runs: for the authenticated tenant, within the tenant's rate limit. */
    private ExecuteRequest admitted(ExecuteRequest request, Optional<String> key) {
        Caller caller = access.authenticate(key, request.getTenant());
        access.admitTask(caller);
        return caller.tenant().equals(request.getTenant()) ? request
                : request.toBuilder().setTenant(caller.tenant()).build();
    }
}
