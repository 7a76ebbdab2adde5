package dev.tandem.oracle.grpc;

import dev.tandem.grpc.CallRunner;
import dev.tandem.oracle.security.Caller;
import dev.tandem.oracle.security.ClientAccess;
import dev.tandem.oracle.service.PlanValidator;
import dev.tandem.oracle.service.SubmittedTasks;
import dev.tandem.oracle.service.TaskRunner;
import dev.tandem.proto.oracle.v1.CancelTaskRequest;
import dev.tandem.proto.oracle.v1.CancelTaskResponse;
import dev.tandem.proto.oracle.v1.GetTaskRequest;
import dev.tandem.proto.oracle.v1.GetTaskResponse;
import dev.tandem.proto.oracle.v1.ListTasksRequest;
import dev.tandem.proto.oracle.v1.ListTasksResponse;
import dev.tandem.proto.oracle.v1.SubmitTaskRequest;
import dev.tandem.proto.oracle.v1.SubmitTaskResponse;
import dev.tandem.proto.oracle.v1.WatchTaskRequest;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.OracleService;
import dev.tandem.proto.oracle.v1.ParallelLevel;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.proto.oracle.v1.ValidatePlanRequest;
import dev.tandem.proto.oracle.v1.ValidatePlanResponse;
import io.grpc.Context;
import io.quarkus.grpc.GrpcService;
import io.quarkus.virtual.threads.VirtualThreads;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

import java.util.Optional;
import java.util.concurrent.ExecutorService;

/**
 * The client-facing API. Every call is admitted first (API key → tenant, the tenant's rate limit), then runs on a
 * virtual thread; the task's steps fan out on more virtual threads. The client's deadline and key are read here,
 * on the call's thread, and handed down explicitly because the worker threads do not carry the call's context.
 * A client that cancels its ExecuteStream cancels the task: its downstream calls end with CANCELLED and the task
 * fails with that status ({@link CallRunner#streamOnVirtualThread}). The work is offloaded here rather than with
 * {@code @Blocking}: on the shared HTTP/gRPC server Quarkus 3.27 can then deliver a unary call's half-close before
 * its message ("Half-closed without a request", quarkusio/quarkus#48940). Submitted tasks ({@link SubmittedTasks})
 * are admitted the same way and run in the background; reading, watching and cancelling them is scoped to the
 * caller's tenant.
 */
@GrpcService
public class OracleGrpcService implements OracleService {

    private final CallRunner calls;
    private final TaskRunner runner;
    private final PlanValidator validator;
    private final ClientAccess access;
    private final SubmittedTasks tasks;

    /** The task runs on another thread than the call arrived on: the executor keeps the call's trace context. */
    public OracleGrpcService(TaskRunner runner, PlanValidator validator, ClientAccess access, SubmittedTasks tasks,
                             @VirtualThreads ExecutorService blocking) {
        this.runner = runner;
        this.tasks = tasks;
        this.validator = validator;
        this.access = access;
        this.calls = new CallRunner(io.opentelemetry.context.Context.taskWrapping(blocking), GrpcErrors::toStatus);
    }

    @Override
    public Uni<ExecuteResponse> execute(ExecuteRequest request) {
        var deadline = Context.current().getDeadline();
        var key = CallerCredentialsInterceptor.presentedKey();
        return calls.onVirtualThread(null, () -> {
            try (var place = access.runningTask()) {
                return runner.run(admitted(request, key), deadline, event -> { });
            }
        });
    }

    @Override
    public Multi<TaskEvent> executeStream(ExecuteRequest request) {
        var deadline = Context.current().getDeadline();
        var key = CallerCredentialsInterceptor.presentedKey();
        return calls.streamOnVirtualThread(null, events -> {
            try (var place = access.runningTask()) {
                runner.run(admitted(request, key), deadline, events);
            }
        });
    }

    @Override
    public Uni<ValidatePlanResponse> validatePlan(ValidatePlanRequest request) {
        var deadline = Context.current().getDeadline();
        var key = CallerCredentialsInterceptor.presentedKey();
        return calls.onVirtualThread(null, () -> {
            access.authenticate(key, "");
            var graph = validator.validate(request.getPlan(), request.getInputsMap(), deadline);
            var response = ValidatePlanResponse.newBuilder().addAllTopologicalOrder(graph.topologicalOrder());
            graph.levels().forEach(level -> response.addLevels(ParallelLevel.newBuilder().addAllStepIds(level)));
            return response.build();
        });
    }

    @Override
    public Uni<SubmitTaskResponse> submitTask(SubmitTaskRequest request) {
        var key = CallerCredentialsInterceptor.presentedKey();
        return calls.onVirtualThread(null, () -> tasks.submit(admitted(request.getRequest(), key),
                request.hasRequest(), request.getIdempotencyKey()));
    }

    @Override
    public Uni<GetTaskResponse> getTask(GetTaskRequest request) {
        var key = CallerCredentialsInterceptor.presentedKey();
        return calls.onVirtualThread(request.getTaskId(), () -> GetTaskResponse.newBuilder()
                .setTask(tasks.get(request.getTaskId(), tenant(key, request.getTenant()))).build());
    }

    @Override
    public Multi<TaskEvent> watchTask(WatchTaskRequest request) {
        var key = CallerCredentialsInterceptor.presentedKey();
        return calls.streamOnVirtualThread(request.getTaskId(), events -> tasks.watch(request.getTaskId(),
                tenant(key, request.getTenant()), request.getAfterSequence(), events));
    }

    @Override
    public Uni<CancelTaskResponse> cancelTask(CancelTaskRequest request) {
        var key = CallerCredentialsInterceptor.presentedKey();
        return calls.onVirtualThread(request.getTaskId(), () -> CancelTaskResponse.newBuilder()
                .setTask(tasks.cancel(request.getTaskId(), tenant(key, request.getTenant()))).build());
    }

    @Override
    public Uni<ListTasksResponse> listTasks(ListTasksRequest request) {
        var key = CallerCredentialsInterceptor.presentedKey();
        return calls.onVirtualThread(null, () -> tasks.list(tenant(key, request.getTenant()), request.getState(),
                request.getPageSize(), request.getPageToken()));
    }

    /** The caller's tenant: the key's, or the request's when no key decides it. */
    private String tenant(Optional<String> key, String requestedTenant) {
        return access.authenticate(key, requestedTenant).tenant();
    }

    /** The request as it runs: for the authenticated tenant, within the tenant's rate limit. */
    private ExecuteRequest admitted(ExecuteRequest request, Optional<String> key) {
        Caller caller = access.authenticate(key, request.getTenant());
        access.admitTask(caller);
        return caller.tenant().equals(request.getTenant()) ? request
                : request.toBuilder().setTenant(caller.tenant()).build();
    }
}
