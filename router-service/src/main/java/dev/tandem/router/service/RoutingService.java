package dev.tandem.router.service;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.StepRequirements;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc.WorkerServiceBlockingStub;
import dev.tandem.router.client.WorkerPools;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.config.RouterConfig;
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.microprofile.faulttolerance.exceptions.CircuitBreakerOpenException;
import org.jboss.logging.Logger;

/**
 * Routes steps and reviews: selects candidates, then calls them in rank order, failing over on backend
 * failures, and prices every attempt from the worker's reported token usage.
 */
@ApplicationScoped
public class RoutingService {

    private static final Logger LOG = Logger.getLogger(RoutingService.class);

    /** A successful dispatch with its routing and cost. */
    public record DispatchResult(ExecuteStepResponse result, Selection selection, List<Attempt> attempts,
                                 double costUsd, double oracleBaselineUsd) {
    }

    /** A successful review with its routing and cost. */
    public record ReviewResult(ReviewStepResponse review, Selection selection, List<Attempt> attempts,
                               double costUsd) {
    }

    private record Outcome<T>(T response, List<Attempt> attempts, double costUsd, TokenUsage usage) {
    }

    /** One call to one backend with the deadline already applied to the stub. */
    @FunctionalInterface
    private interface BackendCall<T> {
        T call(WorkerServiceBlockingStub stub, Backend backend, int attempt);
    }

    @Inject
    CatalogHolder catalogs;

    @Inject
    RouteSelector selector;

    @Inject
    LiveState live;

    @Inject
    WorkerPools pools;

    @Inject
    BackendProfiles profiles;

    @Inject
    MeterRegistry registry;

    @Inject
    RouterConfig config;

    /** The decision a dispatch would take now. */
    public Selection route(SelectionRequest request) {
        return selector.select(request, catalogs.current(), live);
    }

    public DispatchResult dispatch(DispatchRequest request, Deadline callerDeadline) {
        Catalog catalog = catalogs.current();
        long inputTokens = catalog.estimateTokens(chars(request.getInputsMap()) + request.getInstructions().length());
        SelectionRequest selectionRequest = toSelectionRequest(request.getWorkerType(), request.getRequirements(),
                Set.copyOf(request.getExcludeModelsList()), inputTokens);
        Selection selection = selectOrFail(selectionRequest, catalog);
        LOG.infof("dispatch step %s (%s): %d of %d candidates eligible; %s", request.getStepId(),
                request.getWorkerType(), selection.eligibleCount(), selection.candidates().size(),
                selection.explanation());
        Outcome<ExecuteStepResponse> outcome = runWithFailover(selection, deadline(callerDeadline), "dispatch",
                (stub, backend, attempt) -> stub.executeStep(ExecuteStepRequest.newBuilder()
                        .setTaskId(request.getTaskId())
                        .setStepId(request.getStepId())
                        .setWorkerType(request.getWorkerType())
                        .putAllInputs(request.getInputsMap())
                        .setModelId(backend.model().id())
                        .setInstructions(request.getInstructions())
                        .setAttempt(attempt)
                        .build()),
                ExecuteStepResponse.class, ExecuteStepResponse::getUsage);
        double baseline = catalog.oracleModel().map(m -> cost(m, outcome.usage())).orElse(0d);
        return new DispatchResult(outcome.response(), selection, outcome.attempts(), outcome.costUsd(), baseline);
    }

    public ReviewResult review(ReviewRequest request, Deadline callerDeadline) {
        Catalog catalog = catalogs.current();
        long inputTokens = catalog.estimateTokens(chars(request.getInputsMap())
                + request.getCandidateOutput().length() + request.getInstructions().length());
        SelectionRequest selectionRequest = SelectionRequest.of(request.getWorkerType(), inputTokens)
                .withMinTier(ModelTier.ORACLE);
        Selection selection = selectOrFail(selectionRequest, catalog);
        LOG.infof("review step %s (%s) of %s: %s", request.getStepId(), request.getWorkerType(),
                request.getCandidateModelId(), selection.explanation());
        Outcome<ReviewStepResponse> outcome = runWithFailover(selection, deadline(callerDeadline), "review",
                (stub, backend, attempt) -> stub.reviewStep(ReviewStepRequest.newBuilder()
                        .setTaskId(request.getTaskId())
                        .setStepId(request.getStepId())
                        .setWorkerType(request.getWorkerType())
                        .putAllInputs(request.getInputsMap())
                        .setCandidateOutput(request.getCandidateOutput())
                        .setCandidateModelId(request.getCandidateModelId())
                        .setModelId(backend.model().id())
                        .setInstructions(request.getInstructions())
                        .build()),
                ReviewStepResponse.class, ReviewStepResponse::getUsage);
        return new ReviewResult(outcome.response(), selection, outcome.attempts(), outcome.costUsd());
    }

    /** The selection request for a step's requirements. */
    public static SelectionRequest toSelectionRequest(String workerType, StepRequirements r, Set<String> exclude,
                                                      long estimatedInputTokens) {
        return new SelectionRequest(workerType, r.getCapabilitiesList(), r.getMinContextTokens(),
                ModelTier.fromProto(r.getMinTier()), r.getLatencyTargetMs(), r.getResidencyTagsList(),
                r.getBudgetUsd(), exclude, estimatedInputTokens);
    }

    private Selection selectOrFail(SelectionRequest request, Catalog catalog) {
        Selection selection = selector.select(request, catalog, live);
        if (!selection.chosen()) {
            LOG.warnf("routing failed: %s", selection.explanation());
            throw new RoutingFailedException(switch (selection.failure()) {
                case ALL_POOLS_FULL -> RoutingFailedException.Kind.POOLS_FULL;
                case ALL_CIRCUITS_OPEN -> RoutingFailedException.Kind.BACKENDS_FAILED;
                default -> RoutingFailedException.Kind.NO_CANDIDATE;
            }, selection.explanation());
        }
        Backend best = selection.best().backend();
        Counter.builder("tandem.router.decisions").description("Routing decisions by chosen model")
                .tags("worker_type", request.workerType(), "model", best.model().id(),
                        "tier", best.model().tier().name())
                .register(registry).increment();
        return selection;
    }

    private <T> Outcome<T> runWithFailover(Selection selection, Deadline deadline, String what, BackendCall<T> call,
                                           Class<T> type, java.util.function.Function<T, TokenUsage> usageOf) {
        List<Attempt> attempts = new ArrayList<>();
        int maxCalls = config.dispatch().maxAttempts();
        long attemptTimeoutNanos = config.dispatch().attemptTimeout().toNanos();
        int calls = 0;
        for (CandidateEvaluation candidate : selection.eligible()) {
            if (calls >= maxCalls) {
                break;
            }
            if (deadline.isExpired()) {
                throw new RoutingFailedException(RoutingFailedException.Kind.DEADLINE_EXCEEDED,
                        what + " deadline passed after " + attempts.size() + " attempts: " + summary(attempts));
            }
            Backend backend = candidate.backend();
            if (!pools.tryAcquire(backend.pool())) {
                attempts.add(attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_POOL_FULL,
                        "pool full (capacity " + backend.pool().capacity() + ")", 0, 0));
                continue;
            }
            calls++;
            int attemptNumber = calls;
            Deadline perAttempt = Deadline.after(attemptTimeoutNanos, TimeUnit.NANOSECONDS).minimum(deadline);
            long start = System.nanoTime();
            try {
                T response = pools.call(backend.pool(),
                        stub -> call.call(stub.withDeadline(perAttempt), backend, attemptNumber), type);
                long nanos = System.nanoTime() - start;
                profiles.recordSuccess(backend, nanos);
                TokenUsage usage = usageOf.apply(response);
                double cost = cost(backend.model(), usage);
                attempts.add(attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED, "", nanos / 1e6, cost));
                LOG.infof("%s on %s succeeded after %d attempt(s): %d input / %d output tokens, $%.6f", what,
                        backend.key(), attempts.size(), usage.getInputTokens(), usage.getOutputTokens(), cost);
                return new Outcome<>(response, List.copyOf(attempts), cost, usage);
            } catch (CircuitBreakerOpenException e) {
                calls--;
                attempts.add(attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_CIRCUIT_OPEN,
                        "circuit open for pool '" + backend.pool().id() + "'", 0, 0));
            } catch (StatusRuntimeException e) {
                if (!WorkerPools.isBackendFailure(e.getStatus().getCode())) {
                    // The worker judged the request itself wrong: another backend would say the same.
                    profiles.recordSuccess(backend, System.nanoTime() - start);
                    throw e;
                }
                long nanos = System.nanoTime() - start;
                profiles.recordFailure(backend, nanos, e.getStatus().getCode().name());
                String error = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
                attempts.add(attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_BACKEND_FAILED, error, nanos / 1e6, 0));
                LOG.warnf("%s on %s failed (%s); failing over", what, backend.key(), error);
            } catch (Exception e) {
                long nanos = System.nanoTime() - start;
                profiles.recordFailure(backend, nanos, "CLIENT_ERROR");
                attempts.add(attempt(backend, AttemptOutcome.ATTEMPT_OUTCOME_BACKEND_FAILED, e.toString(),
                        nanos / 1e6, 0));
                LOG.warnf(e, "%s on %s failed; failing over", what, backend.key());
            } finally {
                pools.release(backend.pool());
            }
        }
        boolean allFull = !attempts.isEmpty();
        for (Attempt a : attempts) {
            allFull &= a.getOutcome() == AttemptOutcome.ATTEMPT_OUTCOME_POOL_FULL;
        }
        if (deadline.isExpired()) {
            throw new RoutingFailedException(RoutingFailedException.Kind.DEADLINE_EXCEEDED,
                    what + " deadline passed after " + attempts.size() + " attempts: " + summary(attempts));
        }
        throw new RoutingFailedException(allFull ? RoutingFailedException.Kind.POOLS_FULL
                : RoutingFailedException.Kind.BACKENDS_FAILED,
                what + " failed on every candidate tried (" + attempts.size() + "): " + summary(attempts));
    }

    private Deadline deadline(Deadline callerDeadline) {
        return callerDeadline != null ? callerDeadline
                : Deadline.after(config.dispatch().defaultDeadline().toNanos(), TimeUnit.NANOSECONDS);
    }

    private static Attempt attempt(Backend backend, AttemptOutcome outcome, String error, double latencyMs,
                                   double cost) {
        return Attempt.newBuilder().setModelId(backend.model().id()).setPoolId(backend.pool().id())
                .setOutcome(outcome).setError(error == null ? "" : error).setLatencyMs(latencyMs).setCostUsd(cost)
                .build();
    }

    private static String summary(List<Attempt> attempts) {
        StringBuilder sb = new StringBuilder();
        for (Attempt a : attempts) {
            if (!sb.isEmpty()) {
                sb.append("; ");
            }
            sb.append(a.getModelId()).append('@').append(a.getPoolId()).append(": ").append(a.getError());
        }
        return sb.toString();
    }

    private static double cost(ModelProfile model, TokenUsage usage) {
        return model.costUsd(usage.getInputTokens(), usage.getOutputTokens(), usage.getCachedInputTokens());
    }

    private static long chars(Map<String, String> inputs) {
        long total = 0;
        for (String value : inputs.values()) {
            total += value.length();
        }
        return total;
    }
}
