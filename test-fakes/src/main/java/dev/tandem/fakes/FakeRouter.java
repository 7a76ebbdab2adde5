package dev.tandem.fakes;

import dev.tandem.grpc.BackendsUnavailable;
import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.AttemptOutcome;
import dev.tandem.proto.router.v1.CancelCallsRequest;
import dev.tandem.proto.router.v1.CancelCallsResponse;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.GetCatalogRequest;
import dev.tandem.proto.router.v1.GetCatalogResponse;
import dev.tandem.proto.router.v1.ListWorkerTypesRequest;
import dev.tandem.proto.router.v1.ListWorkerTypesResponse;
import dev.tandem.proto.router.v1.ModelEntry;
import dev.tandem.proto.router.v1.MutinyRouterServiceGrpc;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.SettleStepRequest;
import dev.tandem.proto.router.v1.SettleStepResponse;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.RouteDecision;
import dev.tandem.proto.router.v1.Tier;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.LatencyClass;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.proto.worker.v1.ValidationReport;
import dev.tandem.proto.worker.v1.WorkerTypeInfo;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;

import java.util.List;
import java.util.Map;

/**
 * A router that behaves like one, minus the models: a deterministic output per worker type, the confidence the
 * test sets, costs from token counts at the catalog prices, failover recorded as attempts, reviews as the test
 * scripts them. Served by the oracle's and the audit's tests through a {@code @GrpcService} subclass, in the
 * services' Mutiny style; a dispatch is answered from a virtual thread of its own, where it waits while a test holds
 * it, and every other call at once on the caller's thread.
 */
@SuppressWarnings("deprecation") // plays a router of the first v1 too
public class FakeRouter extends MutinyRouterServiceGrpc.RouterServiceImplBase {

    public static final String WORKER = "embedded-minilm";
    public static final String ORACLE = "embedded-bge-oracle";
    public static final String POOL = "local";
    /** An LLM oracle in the catalog, so the oracle's own planning and synthesis tokens are priced. */
    public static final String LLM_ORACLE = "gpt-4o";
    public static final double LLM_IN = 2.50;
    public static final double LLM_OUT = 10.00;
    public static final double LLM_CACHED_IN = 1.25;
    static final double WORKER_IN = 0.02;
    static final double WORKER_OUT = 0.02;
    static final double ORACLE_IN = 3.00;
    static final double ORACLE_OUT = 15.00;

    private final FakeRouterState state;

    public FakeRouter(FakeRouterState state) {
        this.state = state;
    }

    @Override
    public Uni<DispatchResponse> dispatch(DispatchRequest request) {
        var deadline = Context.current().getDeadline();
        // answered from a virtual thread of its own: a test holds dispatches mid-step and has several in flight at
        // once, which must not wait on the caller's thread (Quarkus honours @Blocking only on classes it indexes,
        // and indexing this jar hides the service under test)
        return Uni.createFrom().emitter(responses -> Thread.ofVirtual()
                .start(() -> answerDispatch(request, deadline, responses)));
    }

    private void answerDispatch(DispatchRequest request, Deadline deadline,
                                UniEmitter<? super DispatchResponse> responses) {
        state.dispatches.add(request);
        if (deadline != null) {
            state.dispatchDeadlines.add(deadline);
        }
        int now = state.inFlight.incrementAndGet();
        state.maxInFlight.accumulateAndGet(now, Math::max);
        try {
            awaitRendezvous();
            awaitRelease();
            boolean oracleTier = request.getRequirements().getMinTier() == Tier.TIER_ORACLE;
            if (state.backendsUnavailable) {
                responses.fail(BackendsUnavailable.status("fake router: every qualifying backend's circuit is open"));
                return;
            }
            if (state.dispatchFailure != null) {
                responses.fail(Status.fromCode(state.dispatchFailure).withDescription("fake router: "
                        + state.dispatchFailure).asRuntimeException());
                return;
            }
            if (!oracleTier && state.failingWorkerTypes.contains(request.getWorkerType())
                    || oracleTier && state.failingOnOracleTier.contains(request.getWorkerType())) {
                responses.fail(BackendsUnavailable.status("every candidate for " + request.getWorkerType()
                        + " failed"));
                return;
            }
            var model = oracleTier ? ORACLE : WORKER;
            var output = output(request.getWorkerType(), request.getInputsMap(), oracleTier);
            long in = tokens(String.join(" ", request.getInputsMap().values()));
            long out = tokens(output);
            double cost = price(model, in, out);
            // a BATCH-class step goes through the models' batch path at half price (their configured batch prices)
            double batchDiscount = batch(request.getLatencyClass()) ? cost / 2 : 0;
            cost -= batchDiscount;
            double confidence = oracleTier ? 0.97 : state.confidence.getOrDefault(request.getWorkerType(), 0.9);
            // the calibrated value in calibrated_confidence, or (a router of the first v1) in the result's
            // deprecated confidence field; the raw confidence a little above it (an overconfident worker)
            var result = ExecuteStepResponse.newBuilder().setOutput(output)
                    .setRawConfidence(Math.min(1, confidence + 0.02)).setModelId(model);
            if (state.firstV1Router) {
                result.setConfidence(confidence);
            }
            var response = DispatchResponse.newBuilder()
                    .setResult(result
                            .setValidation(ValidationReport.newBuilder().setPassed(true))
                            .setUsage(TokenUsage.newBuilder().setInputTokens(in).setOutputTokens(out)))
                    .setDecision(RouteDecision.newBuilder().setModelId(model).setPoolId(POOL)
                            .setEarningTrust(!oracleTier && state.earningTrust.contains(request.getWorkerType()))
                            .setExplanation("fake: " + model + " on " + POOL + " is the cheapest eligible"))
                    .setCostUsd(cost)
                    .setBatchDiscountUsd(batchDiscount)
                    .setOracleBaselineUsd(price(ORACLE, in, out));
            if (!state.firstV1Router) {
                response.setCalibratedConfidence(confidence);
            }
            if (oracleTier) {
                response.addAttempts(Attempt.newBuilder().setModelId(WORKER).setPoolId(POOL)
                        .setOutcome(AttemptOutcome.ATTEMPT_OUTCOME_BACKEND_FAILED).setError("fake failure"));
            }
            response.addAttempts(Attempt.newBuilder().setModelId(model).setPoolId(POOL)
                    .setOutcome(AttemptOutcome.ATTEMPT_OUTCOME_SUCCEEDED).setCostUsd(cost));
            responses.complete(response.build());
        } finally {
            state.inFlight.decrementAndGet();
        }
    }

    @Override
    public Uni<ReviewResponse> review(ReviewRequest request) {
        // answered from a virtual thread, as dispatches are: a test's reviewer may take its time (a shadow-review
        // backlog) and must not hold the event loop this fake is called on
        return Uni.createFrom().emitter(responses -> Thread.ofVirtual()
                .start(() -> answerReview(request).subscribe().with(responses::complete, responses::fail)));
    }

    private Uni<ReviewResponse> answerReview(ReviewRequest request) {
        state.reviews.add(request);
        var answer = state.reviewAnswer;
        if (answer != null) {
            try {
                return Uni.createFrom().item(answer.apply(request));
            } catch (StatusRuntimeException scripted) { // a test's failing reviewer
                return Uni.createFrom().failure(scripted);
            }
        }
        if (state.failingReviews.contains(request.getStepId())) {
            return Uni.createFrom().failure(Status.UNAVAILABLE.withDescription("no reviewer for "
                    + request.getStepId() + " could be reached").asRuntimeException());
        }
        boolean rejected = state.rejectedSteps.contains(request.getStepId());
        var reviewerOutput = rejected && state.reviewerAnswers
                ? output(request.getWorkerType(), request.getInputsMap(), true) : "";
        long in = tokens(request.getCandidateOutput() + " " + String.join(" ", request.getInputsMap().values()));
        long out = tokens(reviewerOutput) + 5;
        double reviewCost = price(ORACLE, in, out);
        double reviewDiscount = batch(request.getLatencyClass()) ? reviewCost / 2 : 0;
        return Uni.createFrom().item(ReviewResponse.newBuilder()
                .setReview(ReviewStepResponse.newBuilder()
                        .setVerdict(rejected ? ReviewVerdict.REVIEW_VERDICT_REJECTED : ReviewVerdict.REVIEW_VERDICT_ACCEPTED)
                        .setReason(rejected ? "the candidate disagrees with the reviewer" : "the candidate agrees")
                        .setReviewerOutput(reviewerOutput).setConfidence(0.95).setModelId(ORACLE))
                .setDecision(RouteDecision.newBuilder().setModelId(ORACLE).setPoolId(POOL)
                        .setExplanation("fake: the oracle reviews"))
                .setCostUsd(reviewCost - reviewDiscount)
                .setBatchDiscountUsd(reviewDiscount)
                .build());
    }

    @Override
    public Uni<CancelCallsResponse> cancelCalls(CancelCallsRequest request) {
        state.cancelledCalls.add(request);
        return Uni.createFrom().item(CancelCallsResponse.getDefaultInstance());
    }

    @Override
    public Uni<SettleStepResponse> settleStep(SettleStepRequest request) {
        state.settled.add(request);
        return Uni.createFrom().item(SettleStepResponse.newBuilder().setReleased(true).build());
    }

    @Override
    public Uni<ListWorkerTypesResponse> listWorkerTypes(ListWorkerTypesRequest request) {
        state.listWorkerTypesCalls.incrementAndGet();
        if (state.listWorkerTypesDown) {
            return Uni.createFrom().failure(Status.UNAVAILABLE.withDescription("router down").asRuntimeException());
        }
        return Uni.createFrom().item(ListWorkerTypesResponse.newBuilder()
                .addWorkerTypes(type("classify", "text"))
                .addWorkerTypes(type("extract", "text"))
                .addWorkerTypes(type("summarize", "text"))
                .addWorkerTypes(type("validate", "source", "candidate"))
                .build());
    }

    @Override
    public Uni<GetCatalogResponse> getCatalog(GetCatalogRequest request) {
        return Uni.createFrom().item(GetCatalogResponse.newBuilder()
                .addModels(ModelEntry.newBuilder().setId(WORKER).setTier(Tier.TIER_SMALL)
                        .setInputUsdPerMtok(WORKER_IN).setOutputUsdPerMtok(WORKER_OUT))
                .addModels(ModelEntry.newBuilder().setId(ORACLE).setTier(Tier.TIER_ORACLE)
                        .setInputUsdPerMtok(ORACLE_IN).setOutputUsdPerMtok(ORACLE_OUT))
                .addModels(ModelEntry.newBuilder().setId(LLM_ORACLE).setTier(Tier.TIER_ORACLE)
                        .setInputUsdPerMtok(LLM_IN).setOutputUsdPerMtok(LLM_OUT).setCachedInputUsdPerMtok(LLM_CACHED_IN))
                .build());
    }

    /** A reviewer (the audit's tests) that rejects candidates whose output contains "wrong", with its own answer. */
    public static ReviewResponse acceptUnlessWrong(ReviewRequest r) {
        boolean wrong = r.getCandidateOutput().contains("wrong");
        return ReviewResponse.newBuilder().setReview(ReviewStepResponse.newBuilder()
                .setVerdict(wrong ? ReviewVerdict.REVIEW_VERDICT_REJECTED : ReviewVerdict.REVIEW_VERDICT_ACCEPTED)
                .setReason(wrong ? "the label is wrong" : "matches the reviewer's answer")
                .setReviewerOutput(wrong ? "{\"label\":\"right\"}" : "")
                .setModelId("fake-oracle")).build();
    }

    private static boolean batch(LatencyClass latencyClass) {
        return latencyClass == LatencyClass.LATENCY_CLASS_BATCH;
    }

    private static WorkerTypeInfo type(String name, String... required) {
        return WorkerTypeInfo.newBuilder().setName(name).addAllRequiredInputs(List.of(required))
                .addRequiredCapabilities("json_schema").build();
    }

    /** Deterministic outputs; validate echoes its candidate so tests can see what a downstream step received. */
    static String output(String workerType, Map<String, String> inputs, boolean byOracle) {
        var who = byOracle ? "oracle" : "worker";
        return switch (workerType) {
            case "classify" -> "{\"label\":\"billing\",\"by\":\"" + who + "\"}";
            case "extract" -> "{\"email\":\"" + (byOracle ? "maria@example.com" : "wrong@example.com")
                    + "\",\"by\":\"" + who + "\"}";
            case "summarize" -> "{\"summary\":\"A short summary.\",\"by\":\"" + who + "\"}";
            case "validate" -> "{\"valid\":true,\"candidate\":" + quote(inputs.getOrDefault("candidate", ""))
                    + ",\"by\":\"" + who + "\"}";
            default -> "{\"by\":\"" + who + "\"}";
        };
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static long tokens(String text) {
        return text.isBlank() ? 0 : text.trim().split("\\s+").length;
    }

    static double price(String model, long in, long out) {
        return ORACLE.equals(model) ? (in * ORACLE_IN + out * ORACLE_OUT) / 1e6 : (in * WORKER_IN + out * WORKER_OUT) / 1e6;
    }

    private void awaitRelease() {
        long until = System.nanoTime() + 30_000_000_000L;
        while (state.holdDispatches && System.nanoTime() < until) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void awaitRendezvous() {
        long until = System.nanoTime() + 5_000_000_000L;
        while (state.rendezvous > 0 && System.nanoTime() < until) {
            if (state.inFlight.get() >= state.rendezvous) {
                state.rendezvous = 0; // met: release everyone waiting, and later calls do not wait
                return;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
