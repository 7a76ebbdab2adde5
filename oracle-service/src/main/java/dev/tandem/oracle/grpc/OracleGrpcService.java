package dev.tandem.oracle.grpc;

import dev.tandem.grpc.CallRunner;
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
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.quarkus.virtual.threads.VirtualThreads;

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

    private final CallRunner calls;
    private final TaskRunner runner;
    private final PlanValidator validator;
    private final ClientAccess access;

    /** The task runs on another thread than the call arrived on: the executor keeps the call's trace context. */
    public OracleGrpcService(TaskRunner runner, PlanValidator validator, ClientAccess access,
                             @VirtualThreads ExecutorService blocking) {
        this.runner = runner;
        this.validator = validator;
        this.access = access;
        this.calls = new CallRunner(io.opentelemetry.context.Context.taskWrapping(blocking), GrpcErrors::toStatus);
    }

    @Override
    public void execute(ExecuteRequest request, StreamObserver<ExecuteResponse> responses) {
        var deadline = Context.current().getDeadline();
        var key = CallerCredentialsInterceptor.presentedKey();
        calls.respond(responses, () -> {
            try (var place = access.runningTask()) {
                return runner.run(admitted(request, key), deadline, event -> { });
            }
        });
    }

    @Override
    public void executeStream(ExecuteRequest request, StreamObserver<TaskEvent> events) {
        var deadline = Context.current().getDeadline();
        var key = CallerCredentialsInterceptor.presentedKey();
        calls.stream(events, sink -> {
            try (var place = access.runningTask()) {
                runner.run(admitted(request, key), deadline, sink);
            }
        });
    }

    @Override
    public void validatePlan(ValidatePlanRequest request, StreamObserver<ValidatePlanResponse> responses) {
        Deadline deadline = Context.current().getDeadline();
        var key = CallerCredentialsInterceptor.presentedKey();
        calls.respond(responses, () -> {
            access.authenticate(key, "");
            var graph = validator.validate(request.getPlan(), request.getInputsMap(), deadline);
            var response = ValidatePlanResponse.newBuilder().addAllTopologicalOrder(graph.topologicalOrder());
            graph.levels().forEach(level -> response.addLevels(ParallelLevel.newBuilder().addAllStepIds(level)));
            return response.build();
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
