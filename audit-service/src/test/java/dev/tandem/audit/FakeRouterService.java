package dev.tandem.audit;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;

import dev.tandem.proto.router.v1.DispatchRequest;
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
import dev.tandem.proto.router.v1.SettleStepRequest;
import dev.tandem.proto.router.v1.SettleStepResponse;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.ReviewVerdict;

/**
 * A RouterService served by the application under test, which the audit service's unconfigured "router" client
 * reaches in test mode: records every Review request and answers with the test's function.
 */
@GrpcService
public class FakeRouterService implements RouterService {

    public static final List<ReviewRequest> REVIEWS = new CopyOnWriteArrayList<>();
    public static final AtomicReference<Function<ReviewRequest, ReviewResponse>> ANSWER =
            new AtomicReference<>(FakeRouterService::acceptUnlessWrong);

    /** Rejects candidates whose output contains "wrong", with the reviewer's own answer. */
    public static ReviewResponse acceptUnlessWrong(ReviewRequest r) {
        boolean wrong = r.getCandidateOutput().contains("wrong");
        return ReviewResponse.newBuilder().setReview(ReviewStepResponse.newBuilder()
                .setVerdict(wrong ? ReviewVerdict.REVIEW_VERDICT_REJECTED : ReviewVerdict.REVIEW_VERDICT_ACCEPTED)
                .setReason(wrong ? "the label is wrong" : "matches the reviewer's answer")
                .setReviewerOutput(wrong ? "{\"label\":\"right\"}" : "")
                .setModelId("fake-oracle")).build();
    }

    public static void reset() {
        REVIEWS.clear();
        ANSWER.set(FakeRouterService::acceptUnlessWrong);
    }

    @Override
    public Uni<ReviewResponse> review(ReviewRequest request) {
        REVIEWS.add(request);
        return Uni.createFrom().item(() -> ANSWER.get().apply(request));
    }

    @Override
    public Uni<SettleStepResponse> settleStep(SettleStepRequest request) {
        return Uni.createFrom().item(SettleStepResponse.getDefaultInstance());
    }

    @Override
    public Uni<DispatchResponse> dispatch(DispatchRequest request) {
        return Uni.createFrom().failure(io.grpc.Status.UNIMPLEMENTED.asRuntimeException());
    }

    @Override
    public Uni<RouteResponse> route(RouteRequest request) {
        return Uni.createFrom().failure(io.grpc.Status.UNIMPLEMENTED.asRuntimeException());
    }

    @Override
    public Uni<GetCatalogResponse> getCatalog(GetCatalogRequest request) {
        return Uni.createFrom().failure(io.grpc.Status.UNIMPLEMENTED.asRuntimeException());
    }

    @Override
    public Uni<ListWorkerTypesResponse> listWorkerTypes(ListWorkerTypesRequest request) {
        return Uni.createFrom().failure(io.grpc.Status.UNIMPLEMENTED.asRuntimeException());
    }
}
