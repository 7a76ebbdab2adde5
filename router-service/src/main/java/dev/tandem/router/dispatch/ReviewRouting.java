package dev.tandem.router.dispatch;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.proto.router.v1.Attempt;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.worker.v1.LatencyClass;
import dev.tandem.proto.worker.v1.ReviewStepRequest;
import dev.tandem.proto.worker.v1.ReviewStepResponse;
import dev.tandem.proto.worker.v1.ReviewVerdict;
import dev.tandem.router.budget.TenantBudgets;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.ReviewPricing;
import dev.tandem.router.selection.PromptPredictionPolicy;
import dev.tandem.router.selection.Selection;
import dev.tandem.router.selection.SelectionRequest;
import dev.tandem.router.selection.TrustEarning;
import io.grpc.Deadline;
import org.jboss.logging.Logger;

/**
 * Routes reviews: an oracle-tier model other than the candidate's reviews the output (the step's hard requirements
 * hold for it, its budget does not: a selected review always runs), with failover like a step. What a review
 * teaches goes back into routing: its cost to the step's exploration account and the worker type's review prices,
 * its verdict to the prompt-level policy's memory.
 */
@ApplicationScoped
public class ReviewRouting {

    private static final Logger LOG = Logger.getLogger(ReviewRouting.class);

    /** A successful review with its routing and cost. */
    public record ReviewResult(ReviewStepResponse review, Selection selection, List<Attempt> attempts,
                               double costUsd, double batchDiscountUsd) {
    }

    private final CatalogHolder catalogs;
    private final RouteChoice choice;
    private final Dispatcher dispatcher;
    private final PromptPredictionPolicy prediction;
    private final TrustEarning trustEarning;
    private final ReviewPricing reviewPricing;
    private final TenantBudgets tenants;
    private final RouterMetrics metrics;
    private final RouterConfig config;
    private final WorkerTypeDirectory workerTypes;

    public ReviewRouting(CatalogHolder catalogs, RouteChoice choice, Dispatcher dispatcher,
            PromptPredictionPolicy prediction, TrustEarning trustEarning, ReviewPricing reviewPricing,
            TenantBudgets tenants, RouterMetrics metrics, RouterConfig config, WorkerTypeDirectory workerTypes) {
        this.catalogs = catalogs;
        this.choice = choice;
        this.dispatcher = dispatcher;
        this.prediction = prediction;
        this.trustEarning = trustEarning;
        this.reviewPricing = reviewPricing;
        this.tenants = tenants;
        this.metrics = metrics;
        this.config = config;
        this.workerTypes = workerTypes;
    }

    public ReviewResult review(ReviewRequest request, Deadline callerDeadline) {
        Catalog catalog = catalogs.current();
        DispatchTrace trace = new DispatchTrace();
        boolean batch = request.getLatencyClass() == LatencyClass.LATENCY_CLASS_BATCH;
        Deadline deadline = dispatcher.deadlineFor(callerDeadline, batch, request.getBatchDeadline());
        long inputTokens = catalog.estimateTokens(chars(request.getInputsMap())
                + request.getCandidateOutput().length() + request.getInstructions().length());
        // the step's hard requirements hold for its reviewer too; its budget does not (a selected review runs)
        SelectionRequest selectionRequest = RoutingService.toSelectionRequest(request.getWorkerType(),
                request.getRequirements().toBuilder().clearBudgetUsd().build(), Set.of(), inputTokens)
                .withMinTier(ModelTier.ORACLE).withBatch(batch)
                .requiring(workerTypes.requiredCapabilities(request.getWorkerType(), deadline));
        // a model reviewing its own output learns nothing: another oracle-tier model reviews when there is one
        if (!request.getCandidateModelId().isEmpty()) {
            SelectionRequest other = selectionRequest.excluding(Set.of(request.getCandidateModelId()));
            if (choice.select(other, catalog).chosen()) {
                selectionRequest = other;
            }
        }
        // the step's fate is known now: a trusted step leaves the exploration budget's pool of unknown outcomes
        trustEarning.budget().reviewing(request.getWorkerType(), request.getTenant(),
                RoutingService.stepKey(request.getTaskId(), request.getStepId()));
        Selection selection = choice.selectOrFail(selectionRequest, catalog, trace, -1);
        choice.count(selection);
        if (config.review().skipSelfReview()
                && selection.best().backend().model().id().equals(request.getCandidateModelId())) {
            LOG.infof("review step %s (%s): the candidate is %s's own output and no other oracle-tier model can "
                    + "review it: accepted without a call", request.getStepId(), request.getWorkerType(),
                    request.getCandidateModelId());
            ReviewStepResponse self = ReviewStepResponse.newBuilder()
                    .setVerdict(ReviewVerdict.REVIEW_VERDICT_ACCEPTED)
                    .setReason("self-review skipped: the candidate is " + request.getCandidateModelId()
                            + "'s own output and no other oracle-tier model can review it")
                    .setReviewerOutput(request.getCandidateOutput())
                    .setModelId(request.getCandidateModelId())
                    .build();
            settle(request, self, 0, catalog);
            return new ReviewResult(self, selection, List.of(), 0, 0);
        }
        LOG.infof("review step %s (%s) of %s: %s", request.getStepId(), request.getWorkerType(),
                request.getCandidateModelId(), selection.explanation());
        Dispatcher.Outcome<ReviewStepResponse> outcome = dispatcher.run(selection, deadline,
                new Dispatcher.Spec<>("review", ReviewStepResponse.class,
                        (stub, backend, attempt) -> {
                            String workerKey = WorkerCallKeys.of(request.getTenant(), request.getIdempotencyKey(),
                                    backend.model().id());
                            return WorkerCallKeys.routed(stub, workerKey).reviewStep(ReviewStepRequest.newBuilder()
                                .setTaskId(request.getTaskId())
                                .setStepId(request.getStepId())
                                .setWorkerType(request.getWorkerType())
                                .putAllInputs(request.getInputsMap())
                                .setCandidateOutput(request.getCandidateOutput())
                                .setCandidateModelId(request.getCandidateModelId())
                                .setModelId(backend.model().id())
                                .setInstructions(request.getInstructions())
                                .setLatencyClass(request.getLatencyClass())
                                .setBatchDeadline(request.getBatchDeadline())
                                .setIdempotencyKey(workerKey)
                                .build());
                        },
                        ReviewStepResponse::getUsage, r -> r.getLatencyMs() / 1000, request.getWorkerType(), 0,
                        batch),
                0, new AtomicInteger(), trace);
        for (Attempt a : outcome.attempts()) {
            metrics.cost(request.getWorkerType(), a.getModelId(), "review", a.getCostUsd());
        }
        // reviews count toward the tenant's spend but are never refused: an output picked for review must be reviewed
        tenants.charge(request.getTenant(), outcome.costUsd());
        ReviewStepResponse review = outcome.response();
        double discount = RoutingService.batchDiscountUsd(outcome.attempts(), catalog);
        // review prices are learned at interactive prices (a ratio to the oracle's interactive price): a batch-class
        // selection scales them by the oracle's batch discount
        settle(request, review, outcome.costUsd() + discount, catalog);
        if (!request.getCandidateModelId().isEmpty()
                && review.getVerdict() != ReviewVerdict.REVIEW_VERDICT_UNSPECIFIED) {
            try {
                prediction.recordOutcome(request.getWorkerType(), request.getCandidateModelId(),
                        RoutingService.stepText(request.getInputsMap(), request.getInstructions()),
                        review.getVerdict() == ReviewVerdict.REVIEW_VERDICT_ACCEPTED);
            } catch (RuntimeException e) {
                LOG.warnf("could not record the reviewed outcome for prompt-level routing: %s", e.toString());
            }
        }
        return new ReviewResult(review, selection, outcome.attempts(), outcome.costUsd(), discount);
    }

    /** A review's cost goes to the step's exploration account and teaches the review prices of the worker type. */
    private void settle(ReviewRequest request, ReviewStepResponse review, double costUsd, Catalog catalog) {
        boolean rejected = review.getVerdict() == ReviewVerdict.REVIEW_VERDICT_REJECTED;
        boolean withOutput = !review.getReviewerOutput().isBlank();
        double escalationReserve = 0;
        if (rejected && !withOutput) {
            ModelProfile oracle = catalog.oracleModelOrNull();
            long in = catalog.estimateTokens(chars(request.getInputsMap()) + request.getInstructions().length());
            escalationReserve = oracle == null ? 0 : oracle.costUsd(in, catalog.outputTokens(request.getWorkerType()), 0);
        }
        double stepBaseline = trustEarning.budget().reviewed(request.getWorkerType(), request.getTenant(),
                RoutingService.stepKey(request.getTaskId(), request.getStepId()), costUsd, escalationReserve);
        // a self-review skipped at no cost says nothing about what reviews cost
        reviewPricing.reviewed(request.getWorkerType(), costUsd, costUsd > 0 ? stepBaseline : 0, rejected,
                withOutput);
    }

    private static long chars(Map<String, String> inputs) {
        long total = 0;
        for (String value : inputs.values()) {
            total += value.length();
        }
        return total;
    }
}
