package dev.tandem.router.selection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tandem.router.budget.Budget;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.QualityEstimate;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.config.ModelTier;
import org.junit.jupiter.api.Test;

class RouteSelectorTests {

    private final RouteSelector selector = new RouteSelector();

    private final FakeLive live = new FakeLive();

    private static ModelProfile model(String id, ModelTier tier, double price, Set<String> capabilities,
                                      Set<String> residency, Set<String> workerTypes) {
        return new ModelProfile(id, tier, price, price, price, capabilities, 8192, residency, workerTypes, 0.9);
    }

    private static ModelProfile model(String id, ModelTier tier, double price) {
        return model(id, tier, price, Set.of("json_schema"), Set.of(), Set.of());
    }

    private static Catalog catalog(List<ModelProfile> models, List<WorkerPool> pools) {
        return new Catalog(models, pools, "oracle", Map.of(), 0.80, Map.of(), 200, 500, 4);
    }

    private static WorkerPool pool(String id, int capacity, String... models) {
        return new WorkerPool(id, "localhost:1", List.of(models), capacity, "", true);
    }

    private Selection select(Catalog catalog, SelectionRequest request) {
        return selector.select(request, catalog, live);
    }

    private static CandidateEvaluation candidate(Selection s, String key) {
        return s.candidates().stream().filter(c -> c.backend().key().equals(key)).findFirst().orElseThrow();
    }

    @Test
    void cheapestEligibleCandidateWins() {
        Catalog catalog = catalog(List.of(model("small", ModelTier.SMALL, 0.1), model("large", ModelTier.LARGE, 2),
                model("oracle", ModelTier.ORACLE, 10)), List.of(pool("p", 8, "small", "large", "oracle")));

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        assertThat(s.best().backend().key()).isEqualTo("small@p");
        assertThat(s.eligible()).extracting(c -> c.backend().key()).containsExactly("small@p", "large@p", "oracle@p");
        assertThat(s.eligible()).extracting(CandidateEvaluation::rank).containsExactly(1, 2, 3);
        assertThat(s.explanation()).startsWith("chose small@p for 'classify': cheapest of 3 eligible meeting quality 0.80");
    }

    @Test
    void hardRequirementsExcludeCandidatesWithTheirReason() {
        Catalog catalog = catalog(List.of(
                model("no-schema", ModelTier.LARGE, 0.1, Set.of(), Set.of("eu"), Set.of()),
                model("us-only", ModelTier.LARGE, 0.2, Set.of("json_schema"), Set.of("us"), Set.of()),
                model("extract-only", ModelTier.LARGE, 0.3, Set.of("json_schema"), Set.of("eu"), Set.of("extract")),
                model("small", ModelTier.SMALL, 0.4, Set.of("json_schema"), Set.of("eu"), Set.of()),
                model("excluded", ModelTier.LARGE, 0.5, Set.of("json_schema"), Set.of("eu"), Set.of()),
                model("fits", ModelTier.LARGE, 0.9, Set.of("json_schema"), Set.of("eu"), Set.of())),
                List.of(pool("p", 8, "no-schema", "us-only", "extract-only", "small", "excluded", "fits")));

        Selection s = select(catalog, new SelectionRequest("classify", List.of("json_schema"), 4096, ModelTier.MEDIUM,
                0, List.of("eu"), 0, Set.of("excluded"), 1000));

        assertThat(s.best().backend().key()).isEqualTo("fits@p");
        assertThat(s.eligibleCount()).isEqualTo(1);
        assertThat(candidate(s, "no-schema@p").rejection()).isEqualTo("lacks capability 'json_schema'");
        assertThat(candidate(s, "us-only@p").rejection()).isEqualTo("lacks residency tag 'eu'");
        assertThat(candidate(s, "extract-only@p").rejection()).isEqualTo("model does not serve worker type 'classify'");
        assertThat(candidate(s, "small@p").rejection()).isEqualTo("tier SMALL below required MEDIUM");
        assertThat(candidate(s, "excluded@p").rejection()).isEqualTo("model excluded by the request");
        assertThat(s.candidates()).filteredOn(c -> !c.eligible()).allSatisfy(c -> assertThat(c.rank()).isZero());
    }

    @Test
    void contextWindowIsAHardRequirement() {
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 1), model("dear", ModelTier.LARGE, 100)),
                List.of(pool("p", 8, "cheap", "dear")));

        Selection tooLong = select(catalog, new SelectionRequest("classify", List.of(), 100_000, null, 0, List.of(),
                0, Set.of(), 1000));
        assertThat(tooLong.chosen()).isFalse();
        assertThat(tooLong.failure()).isEqualTo(Selection.Failure.NO_CANDIDATE);
        assertThat(tooLong.explanation()).contains("context window 8192 tokens under required 100000");
    }

    @Test
    void latencyTargetExcludesASlowBackendAndUnknownLatencyIsAllowed() {
        Catalog catalog = catalog(List.of(model("fast", ModelTier.SMALL, 0.5), model("slow", ModelTier.SMALL, 0.1),
                model("new", ModelTier.SMALL, 0.9)), List.of(pool("p", 8, "fast", "slow", "new")));
        live.p95.put("slow@p", 900d);
        live.p95.put("fast@p", 120d);

        Selection s = select(catalog, new SelectionRequest("classify", List.of(), 0, null, 500, List.of(), 0,
                Set.of(), 1000));

        assertThat(s.best().backend().key()).isEqualTo("fast@p");
        assertThat(candidate(s, "slow@p").rejection()).isEqualTo("p95 900 ms over latency target 500 ms");
        assertThat(candidate(s, "new@p").eligible()).isTrue();
    }

    @Test
    void qualityTargetPrefersABetterModelOverACheaperOne() {
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 0.1), model("good", ModelTier.LARGE, 1)),
                List.of(pool("p", 8, "cheap", "good")));
        live.measured("cheap", 0.6, 40);
        live.measured("good", 0.92, 40);

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        assertThat(s.best().backend().key()).isEqualTo("good@p");
        assertThat(candidate(s, "cheap@p").rejection())
                .isEqualTo("quality 0.60 (measured) under target 0.80 for 'classify'");
    }

    @Test
    void whenNobodyMeetsTheQualityTargetTheBestQualityWins() {
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 0.1), model("better", ModelTier.LARGE, 1)),
                List.of(pool("p", 8, "cheap", "better")));
        live.measured("cheap", 0.5, 40);
        live.measured("better", 0.7, 40);

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        assertThat(s.eligible()).extracting(c -> c.backend().key()).containsExactly("better@p", "cheap@p");
        assertThat(s.explanation()).contains("best quality of 2 eligible, none meeting quality 0.80");
    }

    @Test
    void loadBreaksCostTies() {
        Catalog catalog = catalog(List.of(model("m", ModelTier.SMALL, 0.1)),
                List.of(pool("a", 10, "m"), pool("b", 10, "m")));
        live.inFlight.put("a", 6);
        live.inFlight.put("b", 2);

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        assertThat(s.eligible()).extracting(c -> c.backend().key()).containsExactly("m@b", "m@a");
    }

    @Test
    void fullPoolsAndOpenCircuitsAreRejectedAndReportedAsSuch() {
        Catalog catalog = catalog(List.of(model("m", ModelTier.SMALL, 0.1)),
                List.of(pool("a", 2, "m"), pool("b", 2, "m")));
        live.inFlight.put("a", 2);
        live.openCircuits.add("b");

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        assertThat(s.chosen()).isFalse();
        assertThat(s.failure()).isEqualTo(Selection.Failure.ALL_POOLS_FULL);
        assertThat(candidate(s, "m@a").rejection()).isEqualTo("pool 'a' full (2/2 in flight)");
        assertThat(candidate(s, "m@b").rejection()).isEqualTo("circuit open for backend m@b");

        live.inFlight.clear();
        live.openCircuits.add("a");
        assertThat(select(catalog, SelectionRequest.of("classify", 1000)).failure())
                .isEqualTo(Selection.Failure.ALL_CIRCUITS_OPEN);
    }

    @Test
    void emptyCatalogExplainsItself() {
        Selection s = select(catalog(List.of(), List.of()), SelectionRequest.of("classify", 0));

        assertThat(s.chosen()).isFalse();
        assertThat(s.explanation()).contains("the catalog has no (model, pool) pair");
    }

    @Test
    void aRateLimitedBackendStaysOutUntilItsRetryDelayPasses() {
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 0.1), model("other", ModelTier.SMALL, 0.5)),
                List.of(pool("p", 8, "cheap", "other")));
        live.rateLimited.put("cheap@p", 1_500_000_000L);

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        assertThat(s.best().backend().key()).isEqualTo("other@p");
        assertThat(candidate(s, "cheap@p").rejectionKind()).isEqualTo(RejectionKind.RATE_LIMITED);
        assertThat(candidate(s, "cheap@p").rejection()).contains("1500 ms");

        live.rateLimited.put("other@p", 400_000_000L);
        Selection all = select(catalog, SelectionRequest.of("classify", 1000));
        assertThat(all.failure()).isEqualTo(Selection.Failure.ALL_RATE_LIMITED);
        assertThat(all.retryAfterNanos()).isEqualTo(400_000_000L);
    }

    @Test
    void aChoiceOverTheBudgetIsDowngradedToTheCheapestQualifyingModel() {
        // 1000 input + 200 output tokens: cheap $0.0012, mid $0.012, good $0.12
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 1), model("mid", ModelTier.MEDIUM, 10),
                model("good", ModelTier.LARGE, 100)), List.of(pool("p", 8, "cheap", "mid", "good")));
        live.measured("cheap", 0.5, 40);
        live.measured("mid", 0.6, 40);
        live.measured("good", 0.95, 40);

        Selection s = select(catalog, new SelectionRequest("classify", List.of(), 0, null, 0, List.of(), 0.05,
                Set.of(), 1000));

        assertThat(s.best().backend().key()).isEqualTo("cheap@p");
        assertThat(s.budgetDowngrade()).isTrue();
        assertThat(s.bindingBudget().isTask()).isTrue();
        assertThat(s.eligible()).extracting(c -> c.backend().key()).containsExactly("cheap@p", "mid@p");
        assertThat(candidate(s, "good@p").rejection()).startsWith("estimated cost $0.120000 over the task budget");
        assertThat(s.explanation()).contains("cheapest of 2 qualifying within budget, because the preferred good@p");
    }

    @Test
    void withinBudgetTheNormalChoiceStandsAndDearFailoverIsDropped() {
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 1), model("good", ModelTier.LARGE, 100)),
                List.of(pool("p", 8, "cheap", "good")));

        Selection s = select(catalog, new SelectionRequest("classify", List.of(), 0, null, 0, List.of(), 0.01,
                Set.of(), 1000));

        assertThat(s.best().backend().key()).isEqualTo("cheap@p");
        assertThat(s.budgetDowngrade()).isFalse();
        assertThat(s.eligibleCount()).isEqualTo(1);
        assertThat(candidate(s, "good@p").rejectionKind()).isEqualTo(RejectionKind.BUDGET);
    }

    @Test
    void whenNothingFitsTheBudgetTheSelectionFailsNamingIt() {
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 1), model("dear", ModelTier.LARGE, 100)),
                List.of(pool("p", 8, "cheap", "dear")));
        Budget tenant = Budget.tenant("acme", 5.0, 4.9995, java.time.Duration.ofHours(24));

        Selection s = select(catalog, new SelectionRequest("classify", List.of(), 0, null, 0, List.of(),
                List.of(Budget.task(1.0), tenant), Set.of(), 1000, "", 0));

        assertThat(s.chosen()).isFalse();
        assertThat(s.failure()).isEqualTo(Selection.Failure.BUDGET_EXCEEDED);
        assertThat(s.bindingBudget()).isEqualTo(tenant);
        assertThat(s.explanation()).contains("none fits the tenant 'acme' budget (limit $5.00 per 24h, spent "
                + "$4.9995") .contains("the cheapest qualifying is estimated at $0.001200");
    }

    @Test
    void gpuPricedPoolsAreEstimatedFromTheirMeasuredModelTime() {
        Catalog catalog = catalog(List.of(model("hosted", ModelTier.SMALL, 1), model("selfhosted", ModelTier.SMALL, 0)),
                List.of(pool("api", 8, "hosted"),
                        new WorkerPool("gpu", "localhost:1", List.of("selfhosted"), 8, "a100", true, 2, 0.001)));
        live.mean.put("selfhosted@gpu", 800d);

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        // 0.001 USD per GPU-second x 2 GPUs x 0.8 s = $0.0016, dearer than 1200 tokens at $1 per 1M
        assertThat(candidate(s, "selfhosted@gpu").estimatedCostUsd()).isCloseTo(0.0016, within(1e-12));
        assertThat(s.best().backend().key()).isEqualTo("hosted@api");
    }

    @Test
    void aSuspendedStreamIsUsedOnlyWhenNothingElseQualifies() {
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 0.1), model("good", ModelTier.LARGE, 1)),
                List.of(pool("p", 8, "cheap", "good")));
        live.quality.put("cheap", new QualityEstimate(0, 0, QualityEstimate.Source.SUSPENDED));

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        assertThat(s.best().backend().key()).isEqualTo("good@p");
        assertThat(candidate(s, "cheap@p").rejection()).isEqualTo("quality 0.00 (suspended) under target 0.80 "
                + "for 'classify'");
    }

    @Test
    void theExplanationSaysWhereQualityComesFrom() {
        Catalog catalog = catalog(List.of(model("m", ModelTier.SMALL, 0.1)), List.of(pool("p", 8, "m")));
        live.measured("m", 0.91, 120);

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        assertThat(s.explanation()).contains("(quality 0.91 measured n=120, est. $0.000120, p95 unknown, load 0/8)");
        assertThat(s.best().qualityEstimate().source()).isEqualTo(QualityEstimate.Source.MEASURED);
    }
}
