package dev.tandem.router.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.tandem.router.config.ModelTier;
import org.junit.jupiter.api.Test;

class RouteSelectorTests {

    private final RouteSelector selector = new RouteSelector();

    /** Live state set by each test. */
    static class FakeLive implements LiveView {
        final Map<String, Double> p95 = new HashMap<>();
        final Map<String, Integer> inFlight = new HashMap<>();
        final Map<String, Double> quality = new HashMap<>();
        final Set<String> openCircuits = new java.util.HashSet<>();

        @Override
        public double p95Millis(Backend backend) {
            return p95.getOrDefault(backend.key(), 0d);
        }

        @Override
        public int inFlight(WorkerPool pool) {
            return inFlight.getOrDefault(pool.id(), 0);
        }

        @Override
        public boolean circuitOpen(WorkerPool pool) {
            return openCircuits.contains(pool.id());
        }

        @Override
        public double quality(String workerType, ModelProfile model) {
            return quality.getOrDefault(model.id(), model.priorQuality());
        }
    }

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
    void contextWindowAndBudgetAreHardRequirements() {
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 1), model("dear", ModelTier.LARGE, 100)),
                List.of(pool("p", 8, "cheap", "dear")));

        Selection tooLong = select(catalog, new SelectionRequest("classify", List.of(), 100_000, null, 0, List.of(),
                0, Set.of(), 1000));
        assertThat(tooLong.chosen()).isFalse();
        assertThat(tooLong.failure()).isEqualTo(Selection.Failure.NO_CANDIDATE);
        assertThat(tooLong.explanation()).contains("context window 8192 tokens under required 100000");

        // 1000 input + 200 output tokens: cheap costs $0.0012, dear $0.12
        Selection budget = select(catalog, new SelectionRequest("classify", List.of(), 0, ModelTier.LARGE, 0,
                List.of(), 0.01, Set.of(), 1000));
        assertThat(budget.chosen()).isFalse();
        assertThat(candidate(budget, "dear@p").rejection()).startsWith("estimated cost $0.120000 over budget");
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
        live.quality.put("cheap", 0.6);
        live.quality.put("good", 0.92);

        Selection s = select(catalog, SelectionRequest.of("classify", 1000));

        assertThat(s.best().backend().key()).isEqualTo("good@p");
        assertThat(candidate(s, "cheap@p").rejection()).isEqualTo("quality 0.60 under target 0.80 for 'classify'");
    }

    @Test
    void whenNobodyMeetsTheQualityTargetTheBestQualityWins() {
        Catalog catalog = catalog(List.of(model("cheap", ModelTier.SMALL, 0.1), model("better", ModelTier.LARGE, 1)),
                List.of(pool("p", 8, "cheap", "better")));
        live.quality.put("cheap", 0.5);
        live.quality.put("better", 0.7);

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
        assertThat(candidate(s, "m@b").rejection()).isEqualTo("circuit open for pool 'b'");

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
}
