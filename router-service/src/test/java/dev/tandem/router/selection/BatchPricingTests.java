package dev.tandem.router.selection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tandem.proto.worker.v1.TokenUsage;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.dispatch.Pricing;
import dev.tandem.router.learning.StreamOutlooks;
import org.junit.jupiter.api.Test;

/**
 * Batch prices in the cost model: a BATCH-class step prices models that offer a batch path at their batch prices,
 * prefers them when that makes them cheapest, prices its reviews and escalations (and oracle direct) at the oracle's
 * batch price, and says so; the tokens of a call that went through a batch path are billed at batch prices, with
 * the discount against the interactive prices reported. 1,000 input and 200 output tokens per step.
 */
class BatchPricingTests {

    private final RouteSelector selector = new RouteSelector();
    private final FakeLive live = new FakeLive();

    /** "cheap" at $0.10 (no batch path), "batchable" at $0.15 with $0.05 batch prices, the oracle $10, batch $5. */
    private static Catalog catalog() {
        return new Catalog(List.of(
                new ModelProfile("cheap", ModelTier.SMALL, 0.1, 0.1, 0.1, Set.of(), 8192, Set.of(), Set.of(), 0.9),
                new ModelProfile("batchable", ModelTier.SMALL, 0.15, 0.15, 0.15, Set.of(), 8192, Set.of(), Set.of(),
                        0.9).withBatchPrices(0.05, 0.05),
                new ModelProfile("oracle", ModelTier.ORACLE, 10, 10, 10, Set.of(), 8192, Set.of(), Set.of(), 0.95)
                        .withBatchPrices(5, 5)),
                List.of(new WorkerPool("p", "localhost:1", List.of("cheap", "batchable", "oracle"), 8, "", true)),
                "oracle", Map.of(), 0.80, Map.of(), 200, 500, 4);
    }

    private static CandidateEvaluation candidate(Selection s, String model) {
        return s.candidates().stream().filter(c -> c.backend().model().id().equals(model)).findFirst().orElseThrow();
    }

    @Test
    void anInteractiveStepIgnoresBatchPrices() {
        Selection s = selector.select(SelectionRequest.of("classify", 1000), catalog(), live);

        assertThat(s.best().backend().model().id()).isEqualTo("cheap");
        assertThat(candidate(s, "batchable").estimatedCostUsd()).isCloseTo(1200 * 0.15 / 1e6, within(1e-15));
        assertThat(candidate(s, "batchable").batchPrice()).isFalse();
        assertThat(s.explanation()).doesNotContain("batch price");
    }

    @Test
    void aBatchStepPrefersTheModelWithABatchPathAtItsBatchPriceAndSaysSo() {
        Selection s = selector.select(SelectionRequest.of("classify", 1000).withBatch(true), catalog(), live);

        assertThat(s.best().backend().model().id()).isEqualTo("batchable");
        assertThat(s.best().estimatedCostUsd()).isCloseTo(1200 * 0.05 / 1e6, within(1e-15));
        assertThat(s.best().batchPrice()).isTrue();
        assertThat(candidate(s, "cheap").batchPrice()).as("no batch path").isFalse();
        assertThat(candidate(s, "cheap").estimatedCostUsd()).isCloseTo(1200 * 0.1 / 1e6, within(1e-15));
        assertThat(candidate(s, "oracle").estimatedCostUsd()).isCloseTo(1200 * 5.0 / 1e6, within(1e-15));
        assertThat(s.explanation()).contains("chose batchable@p").contains("at batch price");
    }

    @Test
    void reviewsAndEscalationsOfABatchStepArePricedAtTheOraclesBatchPrice() {
        live.audited = true; // probation: every output reviewed
        Selection interactive = selector.select(SelectionRequest.of("classify", 1000), catalog(), live);
        Selection batch = selector.select(SelectionRequest.of("classify", 1000).withBatch(true), catalog(), live);

        var i = candidate(interactive, "batchable");
        var b = candidate(batch, "batchable");
        assertThat(b.reviewProbability()).isEqualTo(1.0);
        assertThat(b.reviewCostUsd()).isCloseTo(i.reviewCostUsd() / 2, within(1e-15));
        assertThat(b.escalationCostUsd()).isCloseTo(i.escalationCostUsd() / 2, within(1e-15));
        assertThat(b.oracleCostUsd()).isCloseTo(1200 * 5.0 / 1e6, within(1e-15));
        // in probation the review makes the worker dearer than the oracle direct, at batch prices too
        assertThat(batch.best().backend().model().id()).isEqualTo("oracle");
        assertThat(batch.best().expectedCostUsd()).isCloseTo(interactive.best().expectedCostUsd() / 2,
                within(1e-15));
    }

    @Test
    void aTrustedStreamStillWinsAtBatchPricesWhenItsReviewsAreRare() {
        var trusted = new StreamOutlooks.Outlook("normal", true, 0.05, 0.02, 0.05, 500, 0.01, 0.01, 500);
        live.outlooks.put("cheap", trusted);
        live.outlooks.put("batchable", trusted);
        Selection s = selector.select(SelectionRequest.of("classify", 1000).withBatch(true), catalog(), live);
        assertThat(s.best().backend().model().id()).isEqualTo("batchable");
        assertThat(s.explanation()).contains("at batch price");
    }

    @Test
    void aBatchCallIsBilledAtBatchPricesAndItsDiscountAgainstInteractivePricesIsReported() {
        ModelProfile gpt = new ModelProfile("gpt", ModelTier.MEDIUM, 0.15, 0.60, 0.075, Set.of(), 128_000, Set.of(),
                Set.of(), 0.9).withBatchPrices(0.075, 0.30);
        var usage = TokenUsage.newBuilder().setInputTokens(1_000_000).setOutputTokens(1_000_000)
                .setCachedInputTokens(1_000_000);
        var interactive = usage.build();
        var batched = usage.setBatch(true).build();

        assertThat(Pricing.tokenCostUsd(gpt, interactive)).isCloseTo(0.15 + 0.60 + 0.075, within(1e-12));
        // cached input in a batch: the lower of the cached-input and batch-input prices
        assertThat(Pricing.tokenCostUsd(gpt, batched)).isCloseTo(0.075 + 0.30 + 0.075, within(1e-12));
        assertThat(Pricing.batchDiscountUsd(gpt, batched)).isCloseTo(0.375, within(1e-12));
        assertThat(Pricing.batchDiscountUsd(gpt, interactive)).isZero();
        // the all-oracle baseline stays at interactive prices, also when the oracle itself ran the batch call
        assertThat(Pricing.oracleBaselineUsd(gpt, "gpt", batched)).isCloseTo(0.825, within(1e-12));
        // a reported cost (a replayed recording's interactive cost) is scaled by the batch discount of its tokens
        var reported = usage.setReportedCostUsd(0.33).build();
        assertThat(Pricing.tokenCostUsd(gpt, reported)).isCloseTo(0.33 * 0.45 / 0.825, within(1e-12));
        assertThat(Pricing.batchDiscountUsd(gpt, reported)).isCloseTo(0.33 - 0.33 * 0.45 / 0.825, within(1e-12));
        var reportedInteractive = reported.toBuilder().setBatch(false).build();
        assertThat(Pricing.tokenCostUsd(gpt, reportedInteractive)).isEqualTo(0.33);
        assertThat(Pricing.batchDiscountUsd(gpt, reportedInteractive)).isZero();
    }
}
