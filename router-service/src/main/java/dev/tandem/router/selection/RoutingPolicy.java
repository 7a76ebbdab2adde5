package dev.tandem.router.selection;

import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.learning.LiveView;

/**
 * Ranks the candidates of one step. The default policy ({@link RouteSelector}) uses the measured quality per
 * (worker type, model); the prompt-level policy ({@link PromptPredictionPolicy}) predicts each model's success for
 * this step's input and ranks with the same rules.
 */
public interface RoutingPolicy {

    /** Name shown in decisions: "default" or "prompt-knn". */
    String name();

    Selection select(SelectionRequest request, Catalog catalog, LiveView live);
}
