package dev.tandem.router.dispatch;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.config.RouterConfig;
import dev.tandem.router.learning.LiveState;
import dev.tandem.router.selection.PromptPredictionPolicy;
import dev.tandem.router.selection.RouteSelector;
import dev.tandem.router.selection.RoutingPolicy;
import dev.tandem.router.selection.Selection;
import dev.tandem.router.selection.SelectionRequest;
import org.jboss.logging.Logger;

/**
 * Chooses the route of a step or a review under its worker type's policy (the prompt-level one where it is
 * enabled, else the default rules) against the live state, and turns "nothing qualifies" into the routing failure
 * the caller answers with (pools full and rate limits with when to retry, the binding budget named).
 */
@ApplicationScoped
public class RouteChoice {

    private static final Logger LOG = Logger.getLogger(RouteChoice.class);

    private final RouteSelector selector;
    private final PromptPredictionPolicy prediction;
    private final LiveState live;
    private final RouterMetrics metrics;
    private final RouterConfig config;

    public RouteChoice(RouteSelector selector, PromptPredictionPolicy prediction, LiveState live,
            RouterMetrics metrics, RouterConfig config) {
        this.selector = selector;
        this.prediction = prediction;
        this.live = live;
        this.metrics = metrics;
        this.config = config;
    }

    /** The selection the worker type's policy makes now; it may have chosen nothing. */
    Selection select(SelectionRequest request, Catalog catalog) {
        return policyFor(request.workerType()).select(request, catalog, live);
    }

    /**
     * The selection, explained in the trace, or the routing failure.
     *
     * @param level the cascade level for a step (0 first), -1 for a review
     * @throws RoutingFailedException when no candidate qualifies
     */
    Selection selectOrFail(SelectionRequest request, Catalog catalog, DispatchTrace trace, int level) {
        Selection selection = select(request, catalog);
        if (!selection.chosen()) {
            LOG.warnf("routing failed: %s", selection.explanation());
            trace.add("routing failed: " + selection.explanation());
            throw failure(selection, request);
        }
        if (selection.budgetDowngrade()) {
            metrics.budget(selection.bindingBudget().kind(), "downgraded");
        }
        trace.add((level < 0 ? "review " : "") + "policy " + selection.policy() + ": " + selection.explanation());
        return selection;
    }

    /** Counts a decision that is acted on. */
    void count(Selection selection) {
        metrics.decision(selection.workerType(), selection.best().backend(), selection.policy());
    }

    RoutingPolicy policyFor(String workerType) {
        return prediction.enabledFor(workerType) ? prediction : selector;
    }

    private RoutingFailedException failure(Selection selection, SelectionRequest request) {
        return switch (selection.failure()) {
            case ALL_POOLS_FULL -> {
                metrics.loadShed(request.workerType(), "pools_full");
                yield new RoutingFailedException(RoutingFailedException.Kind.POOLS_FULL, selection.explanation(),
                        Math.max(selection.retryAfterNanos(), config.loadShedding().retryAfter().toNanos()));
            }
            case ALL_RATE_LIMITED -> {
                metrics.loadShed(request.workerType(), "rate_limited");
                yield new RoutingFailedException(RoutingFailedException.Kind.RATE_LIMITED, selection.explanation(),
                        selection.retryAfterNanos());
            }
            case ALL_CIRCUITS_OPEN -> new RoutingFailedException(RoutingFailedException.Kind.BACKENDS_FAILED,
                    selection.explanation());
            case BUDGET_EXCEEDED -> {
                metrics.budget(selection.bindingBudget().kind(), "rejected");
                yield new RoutingFailedException(RoutingFailedException.Kind.BUDGET_EXCEEDED, selection.explanation(),
                        0, selection.bindingBudget());
            }
            default -> new RoutingFailedException(RoutingFailedException.Kind.NO_CANDIDATE, selection.explanation());
        };
    }
}
