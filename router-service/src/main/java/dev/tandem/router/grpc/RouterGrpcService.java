package dev.tandem.router.grpc;

import java.util.Set;
import java.util.concurrent.ExecutorService;

import com.google.protobuf.Timestamp;
import dev.tandem.grpc.CallRunner;
import dev.tandem.proto.router.v1.CancelCallsRequest;
import dev.tandem.proto.router.v1.CancelCallsResponse;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.SettleStepRequest;
import dev.tandem.proto.router.v1.SettleStepResponse;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.GetCatalogRequest;
import dev.tandem.proto.router.v1.GetCatalogResponse;
import dev.tandem.proto.router.v1.ListWorkerTypesRequest;
import dev.tandem.proto.router.v1.ListWorkerTypesResponse;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.RouteRequest;
import dev.tandem.proto.router.v1.RouteResponse;
import dev.tandem.proto.router.v1.RouterService;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.router.v1.Tier;
import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.dispatch.IdempotentCalls;
import dev.tandem.router.dispatch.ReviewRouting;
import dev.tandem.router.dispatch.RoutingService;
import dev.tandem.router.dispatch.WorkerTypeDirectory;
import dev.tandem.router.mapping.RouterMapper;
import dev.tandem.router.selection.Selection;
import dev.tandem.router.selection.SelectionRequest;
import io.grpc.Context;
import io.grpc.Deadline;
import io.quarkus.grpc.GrpcService;
import io.quarkus.virtual.threads.VirtualThreads;
import io.smallrye.mutiny.Uni;

/**
 * gRPC face of the router. Dispatch, Review and ListWorkerTypes block on worker calls, so they run on virtual
 * threads; Route and GetCatalog only read memory. The blocking methods are not annotated
 * {@code @RunOnVirtualThread}: on the shared HTTP/gRPC server Quarkus 3.27 can then deliver a unary call's
 * half-close before its message ("Half-closed without a request", quarkusio/quarkus#48940), so the work is
 * offloaded here, after the request has arrived.
 */
@GrpcService
public class RouterGrpcService implements RouterService {

    private final CallRunner calls;
    private final RoutingService routing;
    private final ReviewRouting reviews;
    private final WorkerTypeDirectory workerTypes;
    private final CatalogHolder catalogs;
    private final RouterMapper mapper;
    private final IdempotentCalls keyed;

    /** Work offloaded from the call's thread keeps its trace context (worker calls belong to the task's trace). */
    public RouterGrpcService(RoutingService routing, ReviewRouting reviews, WorkerTypeDirectory workerTypes,
                             CatalogHolder catalogs, RouterMapper mapper, IdempotentCalls keyed,
                             @VirtualThreads ExecutorService blocking) {
        this.keyed = keyed;
        this.routing = routing;
        this.reviews = reviews;
        this.workerTypes = workerTypes;
        this.catalogs = catalogs;
        this.mapper = mapper;
        this.calls = new CallRunner(io.opentelemetry.context.Context.taskWrapping(blocking), GrpcErrors::of);
    }

    @Override
    public Uni<DispatchResponse> dispatch(DispatchRequest request) {
        Deadline deadline = Context.current().getDeadline();
        return calls.onVirtualThread(request.getTaskId(), () -> {
            GrpcErrors.Violations violations = new GrpcErrors.Violations()
                    .requireNonBlank("task_id", request.getTaskId())
                    .requireNonBlank("step_id", request.getStepId())
                    .requireNonBlank("worker_type", request.getWorkerType());
            requirements(violations, request.getRequirements());
            batchDeadline(violations, request.hasBatchDeadline(), request.getBatchDeadline());
            keyLength(violations, request.getIdempotencyKey());
            violations.throwIfAny();
            if (request.getIdempotencyKey().isEmpty()) {
                return dispatchNow(request, deadline);
            }
            // the budget left is the caller's count at the time it asks: a resumed caller sends another one
            var fingerprinted = request.toBuilder().clearIdempotencyKey()
                    .setRequirements(request.getRequirements().toBuilder().clearBudgetUsd()).build();
            return keyed.call("dispatch", request.getTenant(), request.getIdempotencyKey(), request.getTaskId(),
                    fingerprinted, deadline, () -> dispatchNow(request, deadline),
                    r -> r.toBuilder().setDeduplicated(true).build());
        });
    }

    private DispatchResponse dispatchNow(DispatchRequest request, Deadline deadline) {
        RoutingService.DispatchResult result = routing.dispatch(request, deadline);
        DispatchResponse.Builder response = DispatchResponse.newBuilder()
                .setResult(result.result())
                .setCalibratedConfidence(result.calibratedConfidence())
                .setDecision(mapper.toDecision(result.selection()))
                .addAllAttempts(result.attempts())
                .setCostUsd(result.costUsd())
                .setOracleBaselineUsd(result.oracleBaselineUsd())
                .setBatchDiscountUsd(result.batchDiscountUsd())
                .addAllTrace(result.trace())
                .setBudget(result.budget());
        for (Selection climb : result.cascadeSelections()) {
            response.addCascadeDecisions(mapper.toDecision(climb));
        }
        return response.build();
    }

    @Override
    public Uni<ReviewResponse> review(ReviewRequest request) {
        Deadline deadline = Context.current().getDeadline();
        return calls.onVirtualThread(request.getTaskId(), () -> {
            GrpcErrors.Violations violations = new GrpcErrors.Violations()
                    .requireNonBlank("task_id", request.getTaskId())
                    .requireNonBlank("step_id", request.getStepId())
                    .requireNonBlank("worker_type", request.getWorkerType())
                    .requireNonBlank("candidate_output", request.getCandidateOutput());
            requirements(violations, request.getRequirements());
            batchDeadline(violations, request.hasBatchDeadline(), request.getBatchDeadline());
            keyLength(violations, request.getIdempotencyKey());
            violations.throwIfAny();
            if (request.getIdempotencyKey().isEmpty()) {
                return reviewNow(request, deadline);
            }
            var fingerprinted = request.toBuilder().clearIdempotencyKey()
                    .setRequirements(request.getRequirements().toBuilder().clearBudgetUsd()).build();
            return keyed.call("review", request.getTenant(), request.getIdempotencyKey(), request.getTaskId(),
                    fingerprinted, deadline, () -> reviewNow(request, deadline),
                    r -> r.toBuilder().setDeduplicated(true).build());
        });
    }

    private ReviewResponse reviewNow(ReviewRequest request, Deadline deadline) {
        ReviewRouting.ReviewResult result = reviews.review(request, deadline);
        return ReviewResponse.newBuilder()
                .setReview(result.review())
                .setDecision(mapper.toDecision(result.selection()))
                .setCostUsd(result.costUsd())
                .addAllAttempts(result.attempts())
                .setBatchDiscountUsd(result.batchDiscountUsd())
                .build();
    }

    @Override
    public Uni<CancelCallsResponse> cancelCalls(CancelCallsRequest request) {
        return calls.onEventLoop(request.getTaskId(), () -> {
            new GrpcErrors.Violations().requireNonBlank("task_id", request.getTaskId()).throwIfAny();
            return CancelCallsResponse.newBuilder()
                    .setCancelled(keyed.cancel(request.getTaskId(), request.getTenant())).build();
        });
    }

    /**
     * Largest input estimate accepted (no context window is larger): the cost arithmetic multiplies and adds token
     * counts as longs, and near Long.MAX_VALUE they overflowed into negative prices that won the choice.
     */
    public static final long MAX_INPUT_TOKENS = Integer.MAX_VALUE;

    /**
     * A step's requirements, each within its documented range. NaN is refused explicitly: it fails every comparison,
     * so a NaN budget, latency target, quality or error limit was silently read as "none", and a tier this version
     * does not know as "no minimum".
     */
    private static void requirements(GrpcErrors.Violations violations, StepRequirements r) {
        if (!(r.getBudgetUsd() >= 0 && r.getBudgetUsd() < Double.POSITIVE_INFINITY)) {
            violations.add("requirements.budget_usd", "must be a finite amount, not negative (0: none)");
        }
        if (!(r.getLatencyTargetMs() >= 0 && r.getLatencyTargetMs() < Double.POSITIVE_INFINITY)) {
            violations.add("requirements.latency_target_ms", "must be a finite time, not negative (0: none)");
        }
        if (!(r.getMinQuality() >= 0 && r.getMinQuality() <= 1)) {
            violations.add("requirements.min_quality", "must be in [0, 1]");
        }
        if (!(r.getMaxErrorRate() >= 0 && r.getMaxErrorRate() <= 1)) {
            violations.add("requirements.max_error_rate", "must be in [0, 1]");
        }
        if (r.getMinContextTokens() < 0) {
            violations.add("requirements.min_context_tokens", "must not be negative");
        }
        if (r.getMinTier() == Tier.UNRECOGNIZED) {
            violations.add("requirements.min_tier", "must be TIER_SMALL, TIER_MEDIUM, TIER_LARGE, TIER_ORACLE or "
                    + "unspecified, got " + r.getMinTierValue());
        }
    }

    /** Earliest and latest seconds of a google.protobuf.Timestamp (0001-01-01, 9999-12-31 UTC). */
    private static final long MIN_SECONDS = -62_135_596_800L;
    private static final long MAX_SECONDS = 253_402_300_799L;

    private static void batchDeadline(GrpcErrors.Violations violations, boolean set, Timestamp t) {
        if (set && (t.getSeconds() < MIN_SECONDS || t.getSeconds() > MAX_SECONDS || t.getNanos() < 0
                || t.getNanos() > 999_999_999)) {
            violations.add("batch_deadline", "must be a valid google.protobuf.Timestamp (0001-01-01 to 9999-12-31 "
                    + "UTC, nanos in [0, 999999999])");
        }
    }

    private static void keyLength(GrpcErrors.Violations violations, String key) {
        if (key.length() > IdempotentCalls.MAX_KEY_CHARS) {
            violations.add("idempotency_key", "must be at most " + IdempotentCalls.MAX_KEY_CHARS + " characters");
        }
    }

    @Override
    public Uni<SettleStepResponse> settleStep(SettleStepRequest request) {
        // on a virtual thread although it only reads memory: it takes the exploration budget's window lock, which
        // dispatches on virtual threads hold too, and with the CPUs starved a holder the OS has descheduled kept an
        // event loop, and every call on it, waiting 2.7 s (docs/benchmarks.md, Overload). The oracle does not wait
        // for this call, so the hop costs no task any latency.
        return calls.onVirtualThread(request.getTaskId(), () -> {
            new GrpcErrors.Violations()
                    .requireNonBlank("task_id", request.getTaskId())
                    .requireNonBlank("step_id", request.getStepId())
                    .requireNonBlank("worker_type", request.getWorkerType())
                    .throwIfAny();
            return SettleStepResponse.newBuilder().setReleased(routing.settle(request.getTaskId(),
                    request.getStepId(), request.getWorkerType(), request.getTenant())).build();
        });
    }

    @Override
    public Uni<RouteResponse> route(RouteRequest request) {
        // on a virtual thread, as SettleStep: the selection reads the exploration budget under its window lock
        return calls.onVirtualThread(null, () -> {
            GrpcErrors.Violations violations = new GrpcErrors.Violations()
                    .requireNonBlank("worker_type", request.getWorkerType());
            if (request.getEstimatedInputTokens() < 0 || request.getEstimatedInputTokens() > MAX_INPUT_TOKENS) {
                violations.add("estimated_input_tokens", "must be within [0, " + MAX_INPUT_TOKENS + "]");
            }
            requirements(violations, request.getRequirements());
            violations.throwIfAny();
            String stepText = RoutingService.stepText(request.getInputsMap(), request.getInstructions());
            long tokens = request.getEstimatedInputTokens() > 0 || stepText.isEmpty()
                    ? request.getEstimatedInputTokens() : catalogs.current().estimateTokens(stepText.length());
            SelectionRequest selectionRequest = RoutingService.toSelectionRequest(request.getWorkerType(),
                    request.getRequirements(), Set.of(), tokens).withStepText(stepText);
            Selection selection = routing.route(selectionRequest, request.getTenant());
            return RouteResponse.newBuilder().setDecision(mapper.toDecision(selection)).build();
        });
    }

    @Override
    public Uni<GetCatalogResponse> getCatalog(GetCatalogRequest request) {
        return Uni.createFrom().item(mapper.toCatalog(catalogs.current()));
    }

    @Override
    public Uni<ListWorkerTypesResponse> listWorkerTypes(ListWorkerTypesRequest request) {
        Deadline deadline = Context.current().getDeadline();
        return calls.onVirtualThread(null, () -> ListWorkerTypesResponse.newBuilder()
                .addAllWorkerTypes(workerTypes.workerTypes(deadline)).build());
    }
}
