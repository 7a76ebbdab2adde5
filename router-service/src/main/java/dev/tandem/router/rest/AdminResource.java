package dev.tandem.router.rest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import dev.tandem.router.client.WorkerPools;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.service.Backend;
import dev.tandem.router.service.BackendProfiles;
import dev.tandem.router.service.CandidateEvaluation;
import dev.tandem.router.service.Catalog;
import dev.tandem.router.service.CatalogHolder;
import dev.tandem.router.service.ModelProfile;
import dev.tandem.router.service.QualityBoard;
import dev.tandem.router.service.RoutingService;
import dev.tandem.router.service.Selection;
import dev.tandem.router.service.SelectionRequest;
import dev.tandem.router.service.WorkerPool;

/** Admin read endpoints: the catalog with live pool state, dry-run routing, backend profiles, learned quality. */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class AdminResource {

    public record ModelView(String id, String tier, double inputUsdPerMtok, double outputUsdPerMtok,
                            double cachedInputUsdPerMtok, Set<String> capabilities, int contextTokens,
                            Set<String> residencyTags, Set<String> workerTypes, double priorQuality) {
    }

    public record PoolView(String id, String endpoint, List<String> models, int capacity, int inFlight, String gpu,
                           String circuit) {
    }

    public record CatalogView(String oracleModel, List<ModelView> models, List<PoolView> pools) {
    }

    public record CandidateView(String modelId, String poolId, String tier, boolean eligible, String rejection,
                                double p95LatencyMs, double quality, double estimatedCostUsd, int inFlight,
                                int capacity, int rank) {
    }

    public record DecisionView(String workerType, String modelId, String poolId, double qualityTarget,
                               String explanation, List<CandidateView> candidates) {
    }

    public record BackendView(String backend, String model, String pool, double p95LatencyMs, int samples,
                              long successes, long failures, int inFlight, int capacity, String circuit) {
    }

    @Inject
    CatalogHolder catalogs;

    @Inject
    RoutingService routing;

    @Inject
    WorkerPools pools;

    @Inject
    BackendProfiles profiles;

    @Inject
    QualityBoard quality;

    @GET
    @Path("/catalog")
    public CatalogView catalog() {
        Catalog catalog = catalogs.current();
        List<ModelView> models = new ArrayList<>();
        for (ModelProfile m : catalog.models()) {
            models.add(new ModelView(m.id(), m.tier().name(), m.inputUsdPerMtok(), m.outputUsdPerMtok(),
                    m.cachedInputUsdPerMtok(), m.capabilities(), m.contextTokens(), m.residencyTags(),
                    m.workerTypes(), m.priorQuality()));
        }
        List<PoolView> poolViews = new ArrayList<>();
        for (WorkerPool p : catalog.pools()) {
            poolViews.add(new PoolView(p.id(), p.endpoint(), p.models(), p.capacity(), pools.inFlight(p), p.gpu(),
                    pools.circuitLabel(p)));
        }
        return new CatalogView(catalog.oracleModelId(), models, poolViews);
    }

    /** Dry run: the decision a dispatch of this worker type would take now. */
    @GET
    @Path("/route")
    public DecisionView route(@QueryParam("worker_type") String workerType,
                              @QueryParam("capability") List<String> capabilities,
                              @QueryParam("min_context_tokens") @DefaultValue("0") int minContextTokens,
                              @QueryParam("min_tier") String minTier,
                              @QueryParam("latency_target_ms") @DefaultValue("0") double latencyTargetMs,
                              @QueryParam("residency") List<String> residencyTags,
                              @QueryParam("budget_usd") @DefaultValue("0") double budgetUsd,
                              @QueryParam("estimated_input_tokens") @DefaultValue("0") long inputTokens) {
        if (workerType == null || workerType.isBlank()) {
            throw new BadRequestException("query parameter worker_type is required");
        }
        ModelTier tier = null;
        if (minTier != null && !minTier.isBlank()) {
            try {
                tier = ModelTier.valueOf(minTier.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new BadRequestException("min_tier must be one of SMALL, MEDIUM, LARGE, ORACLE");
            }
        }
        Selection selection = routing.route(new SelectionRequest(workerType, capabilities, minContextTokens, tier,
                latencyTargetMs, residencyTags, budgetUsd, Set.of(), inputTokens));
        List<CandidateView> candidates = new ArrayList<>();
        for (CandidateEvaluation c : selection.candidates()) {
            candidates.add(new CandidateView(c.backend().model().id(), c.backend().pool().id(),
                    c.backend().model().tier().name(), c.eligible(), c.rejection(), c.p95Millis(), c.quality(),
                    c.estimatedCostUsd(), c.inFlight(), c.capacity(), c.rank()));
        }
        return new DecisionView(workerType, selection.chosen() ? selection.best().backend().model().id() : null,
                selection.chosen() ? selection.best().backend().pool().id() : null, selection.qualityTarget(),
                selection.explanation(), candidates);
    }

    /** Live profile of every backend (model@pool). */
    @GET
    @Path("/backends")
    public List<BackendView> backends() {
        List<BackendView> views = new ArrayList<>();
        for (Backend b : catalogs.current().backendList()) {
            BackendProfiles.Profile p = profiles.existing(b);
            views.add(new BackendView(b.key(), b.model().id(), b.pool().id(), p == null ? 0 : p.p95Millis(),
                    p == null ? 0 : p.samples(), p == null ? 0 : p.successes(), p == null ? 0 : p.failures(),
                    pools.inFlight(b.pool()), b.pool().capacity(), pools.circuitLabel(b.pool())));
        }
        return views;
    }

    /** Review verdict counts per worker type and model, as learned from the audit service. */
    @GET
    @Path("/quality")
    public Map<String, Map<String, QualityBoard.Verdicts>> quality() {
        return new TreeMap<>(quality.snapshot());
    }
}
