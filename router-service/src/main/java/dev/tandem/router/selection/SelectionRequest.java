package dev.tandem.router.selection;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import dev.tandem.router.budget.Budget;
import dev.tandem.router.config.ModelTier;

/**
 * What a step asks of its backend.
 *
 * @param minTier              lowest tier allowed, null for none
 * @param latencyTargetMs      p95 target in milliseconds, 0 for none
 * @param budgets              spending limits the choice must fit (task, tenant); empty for none
 * @param estimatedInputTokens input size for cost estimates
 * @param stepText             the step's inputs and instructions, for prompt-level prediction; empty when unknown
 * @param minQuality           quality target of this step, 0 for the worker type's configured target
 * @param tenant               tenant of the step, empty for the shared streams (whose audit outlook prices reviews)
 * @param maxErrorRate         outgoing error rate the step may have after auditing, 0 for the audit's own target
 * @param batch                a BATCH-class step: models that offer a batch path are priced at their batch prices
 */
public record SelectionRequest(String workerType, List<String> capabilities, int minContextTokens, ModelTier minTier,
                               double latencyTargetMs, List<String> residencyTags, List<Budget> budgets,
                               Set<String> excludeModels, long estimatedInputTokens, String stepText,
                               double minQuality, String tenant, double maxErrorRate, boolean batch) {

    public SelectionRequest {
        capabilities = List.copyOf(capabilities);
        residencyTags = List.copyOf(residencyTags);
        budgets = List.copyOf(budgets);
        excludeModels = Set.copyOf(excludeModels);
        stepText = stepText == null ? "" : stepText;
        tenant = tenant == null ? "" : tenant;
    }

    public SelectionRequest(String workerType, List<String> capabilities, int minContextTokens, ModelTier minTier,
                            double latencyTargetMs, List<String> residencyTags, List<Budget> budgets,
                            Set<String> excludeModels, long estimatedInputTokens, String stepText, double minQuality) {
        this(workerType, capabilities, minContextTokens, minTier, latencyTargetMs, residencyTags, budgets,
                excludeModels, estimatedInputTokens, stepText, minQuality, "", 0, false);
    }

    /** A request with at most a task budget ({@code budgetUsd} 0 for none). */
    public SelectionRequest(String workerType, List<String> capabilities, int minContextTokens, ModelTier minTier,
                            double latencyTargetMs, List<String> residencyTags, double budgetUsd,
                            Set<String> excludeModels, long estimatedInputTokens) {
        this(workerType, capabilities, minContextTokens, minTier, latencyTargetMs, residencyTags,
                budgetUsd > 0 ? List.of(Budget.task(budgetUsd)) : List.of(), excludeModels, estimatedInputTokens, "", 0);
    }

    /** A request for a worker type with no further constraints. */
    public static SelectionRequest of(String workerType, long estimatedInputTokens) {
        return new SelectionRequest(workerType, List.of(), 0, null, 0, List.of(), 0, Set.of(), estimatedInputTokens);
    }

    public SelectionRequest withMinTier(ModelTier tier) {
        return new SelectionRequest(workerType, capabilities, minContextTokens, tier, latencyTargetMs, residencyTags,
                budgets, excludeModels, estimatedInputTokens, stepText, minQuality, tenant, maxErrorRate, batch);
    }

    public SelectionRequest withBudgets(List<Budget> newBudgets) {
        return new SelectionRequest(workerType, capabilities, minContextTokens, minTier, latencyTargetMs, residencyTags,
                newBudgets, excludeModels, estimatedInputTokens, stepText, minQuality, tenant, maxErrorRate, batch);
    }

    public SelectionRequest withStepText(String text) {
        return new SelectionRequest(workerType, capabilities, minContextTokens, minTier, latencyTargetMs, residencyTags,
                budgets, excludeModels, estimatedInputTokens, text, minQuality, tenant, maxErrorRate, batch);
    }

    public SelectionRequest withMinQuality(double quality) {
        return new SelectionRequest(workerType, capabilities, minContextTokens, minTier, latencyTargetMs, residencyTags,
                budgets, excludeModels, estimatedInputTokens, stepText, quality, tenant, maxErrorRate, batch);
    }

    /** The same request for a tenant's streams, with the step's outgoing error limit (0: the audit's target). */
    public SelectionRequest forTenant(String newTenant, double newMaxErrorRate) {
        return new SelectionRequest(workerType, capabilities, minContextTokens, minTier, latencyTargetMs, residencyTags,
                budgets, excludeModels, estimatedInputTokens, stepText, minQuality, newTenant, newMaxErrorRate, batch);
    }

    /** The same request as a BATCH-class step (true) or not. */
    public SelectionRequest withBatch(boolean batchClass) {
        return new SelectionRequest(workerType, capabilities, minContextTokens, minTier, latencyTargetMs, residencyTags,
                budgets, excludeModels, estimatedInputTokens, stepText, minQuality, tenant, maxErrorRate, batchClass);
    }

    /** The same request also requiring these capabilities (the union, in first-seen order). */
    public SelectionRequest requiring(List<String> more) {
        if (capabilities.containsAll(more)) {
            return this;
        }
        var all = new LinkedHashSet<>(capabilities);
        all.addAll(more);
        return new SelectionRequest(workerType, List.copyOf(all), minContextTokens, minTier, latencyTargetMs,
                residencyTags, budgets, excludeModels, estimatedInputTokens, stepText, minQuality, tenant, maxErrorRate, batch);
    }

    /** The same request with more models excluded (a cascade climb skips the models already tried). */
    public SelectionRequest excluding(Set<String> more) {
        Set<String> all = new HashSet<>(excludeModels);
        all.addAll(more);
        return new SelectionRequest(workerType, capabilities, minContextTokens, minTier, latencyTargetMs, residencyTags,
                budgets, all, estimatedInputTokens, stepText, minQuality, tenant, maxErrorRate, batch);
    }

    /** The task budget's amount left, 0 when there is none. */
    public double taskBudgetUsd() {
        for (Budget b : budgets) {
            if (b.isTask()) {
                return b.leftUsd();
            }
        }
        return 0;
    }

    /** The task budget less what earlier attempts of the same step spent; other budgets as they are. */
    public List<Budget> taskBudgetAfter(double spentUsd) {
        List<Budget> out = new ArrayList<>(budgets.size());
        for (Budget b : budgets) {
            out.add(b.isTask() ? Budget.task(Math.max(0, b.leftUsd() - spentUsd)) : b);
        }
        return out;
    }
}
