package dev.tandem.router.rest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import dev.tandem.router.budget.Budget;
import dev.tandem.router.budget.TenantBudgets;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.CatalogHolder;
import dev.tandem.router.catalog.CatalogSource;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.client.WorkerPools;
import dev.tandem.router.config.CatalogDefinition;
import dev.tandem.router.config.ModelTier;
import dev.tandem.router.dispatch.RoutingService;
import dev.tandem.router.grpc.RouterGrpcService;
import dev.tandem.router.learning.BackendProfiles;
import dev.tandem.router.learning.Calibrations;
import dev.tandem.router.learning.QualityBoard;
import dev.tandem.router.selection.CandidateEvaluation;
import dev.tandem.router.selection.PromptPredictionPolicy;
import dev.tandem.router.selection.Selection;
import dev.tandem.router.selection.SelectionRequest;

/**
 * Admin endpoints: the catalog with live pool state and its run-time changes, dry-run routing, backend profiles,
 * learned quality and calibration, prompt-level outcomes and tenant spend.
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class AdminResource {

    public record ModelView(String id, String tier, double inputUsdPerMtok, double outputUsdPerMtok,
                            double cachedInputUsdPerMtok, Set<String> capabilities, int contextTokens,
                            Set<String> residencyTags, Set<String> workerTypes, double priorQuality) {
    }

    public record PoolView(String id, String endpoint, List<String> models, int capacity, int inFlight, String gpu,
                           int gpus, double usdPerGpuSecond, String circuit) {
    }

    public record CatalogView(String oracleModel, List<ModelView> models, List<PoolView> pools,
                              CatalogSource.Status source) {
    }

    public record CandidateView(String modelId, String poolId, String tier, boolean eligible, String rejection,
                                double p95LatencyMs, double errorRate, double quality, String qualitySource,
                                long qualitySamples, double estimatedCostUsd, int inFlight, int capacity,
                                String circuit, double retryAfterMs, int rank) {
    }

    public record DecisionView(String workerType, String modelId, String poolId, String policy, double qualityTarget,
                               boolean budgetDowngrade, String explanation, List<CandidateView> candidates) {
    }

    public record BackendView(String backend, String model, String pool, double p95LatencyMs, double meanLatencyMs,
                              double errorRate, int samples, long successes, long failures, int inFlight,
                              int capacity, String circuit, double retryAfterMs) {
    }

    public record QualityView(double accepted, double rejected, boolean measured, double quality, String source) {
    }

    public record CalibrationView(String stream, String method, long samples, double[] raw, double[] calibrated) {
    }

    public record OutcomesView(String pair, int outcomes, int accepted) {
    }

    public record ErrorView(String error) {
    }

    private final CatalogHolder catalogs;

    private final CatalogSource source;

    private final RoutingService routing;

    private final WorkerPools pools;

    private final BackendProfiles profiles;

    private final QualityBoard quality;

    private final Calibrations calibrations;

    private final PromptPredictionPolicy prediction;

    private final TenantBudgets tenants;

    public AdminResource(CatalogHolder catalogs, CatalogSource source, RoutingService routing, WorkerPools pools,
            BackendProfiles profiles, QualityBoard quality, Calibrations calibrations,
            PromptPredictionPolicy prediction, TenantBudgets tenants) {
        this.catalogs = catalogs;
        this.source = source;
        this.routing = routing;
        this.pools = pools;
        this.profiles = profiles;
        this.quality = quality;
        this.calibrations = calibrations;
        this.prediction = prediction;
        this.tenants = tenants;
    }

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
                    p.gpus(), p.usdPerGpuSecond(), pools.circuitLabel(p)));
        }
        return new CatalogView(catalog.oracleModelId(), models, poolViews, source.status());
    }

    /** Adds or replaces a model; body: the model's keys as in the properties (tier, input-usd-per-mtok, ...). */
    @PUT
    @Path("/catalog/models/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response putModel(@PathParam("id") String id, byte[] body) {
        return change(() -> source.putModel(id, source.parse(body, CatalogDefinition.Model.class,
                "model '" + id + "'")));
    }

    @DELETE
    @Path("/catalog/models/{id}")
    public Response removeModel(@PathParam("id") String id) {
        return change(() -> source.removeModel(id));
    }

    /** Adds or replaces a worker pool; body: endpoint, models, capacity, gpu, gpus, usd-per-gpu-second, plaintext. */
    @PUT
    @Path("/catalog/pools/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response putPool(@PathParam("id") String id, byte[] body) {
        return change(() -> source.putPool(id, source.parse(body, CatalogDefinition.Pool.class,
                "pool '" + id + "'")));
    }

    @DELETE
    @Path("/catalog/pools/{id}")
    public Response removePool(@PathParam("id") String id) {
        return change(() -> source.removePool(id));
    }

    public record PolicyView(String workerType, double qualityTarget, double cascadeConfidenceThreshold,
                             Map<String, Map<String, Double>> overrides) {
    }

    /** A worker type's effective quality target and cascade threshold, with every run-time override. */
    @GET
    @Path("/policy/{workerType}")
    public PolicyView policy(@PathParam("workerType") String workerType) {
        Catalog catalog = catalogs.current();
        return new PolicyView(workerType, catalog.qualityTarget(workerType), catalog.cascadeThreshold(workerType),
                source.policyOverrides());
    }

    /** Overrides a worker type's quality-target and/or cascade-confidence-threshold until restart (or DELETE). */
    @PUT
    @Path("/policy/{workerType}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response overridePolicy(@PathParam("workerType") String workerType, byte[] body) {
        Response r = change(() -> source.overridePolicy(workerType, source.parse(body,
                CatalogSource.PolicyOverride.class, "policy of '" + workerType + "'")));
        return r.getStatus() == 200 ? Response.ok(policy(workerType)).build() : r;
    }

    @DELETE
    @Path("/policy/{workerType}")
    public Response resetPolicy(@PathParam("workerType") String workerType) {
        Response r = change(() -> source.resetPolicy(workerType));
        return r.getStatus() == 200 ? Response.ok(policy(workerType)).build() : r;
    }

    /** Re-reads the catalog directory now instead of at the next poll. */
    @PUT
    @Path("/catalog/reload")
    public CatalogView reload() {
        source.reloadDirectory();
        return catalog();
    }

    private Response change(Supplier<Catalog> change) {
        try {
            change.get();
            return Response.ok(catalog()).build();
        } catch (CatalogSource.InvalidCatalogException e) {
            return error(Response.Status.BAD_REQUEST, e.getMessage());
        } catch (CatalogSource.CatalogConflictException e) {
            return error(Response.Status.CONFLICT, e.getMessage());
        } catch (NoSuchElementException e) {
            return error(Response.Status.NOT_FOUND, e.getMessage());
        } catch (CatalogSource.AdminApiDisabledException e) {
            return error(Response.Status.FORBIDDEN, e.getMessage());
        }
    }

    private static Response error(Response.Status status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(new ErrorView(message)).build();
    }

    /** Dry run: the decision a dispatch of this worker type would take now. */
    @GET
    @Path("/route")
    public DecisionView route(@QueryParam("worker_type") String workerType,
                              @QueryParam("capability") List<String> capabilities,
                              @QueryParam("min_context_tokens") String minContext,
                              @QueryParam("min_tier") String minTier,
                              @QueryParam("latency_target_ms") String latencyTarget,
                              @QueryParam("residency") List<String> residencyTags,
                              @QueryParam("budget_usd") String budget,
                              @QueryParam("estimated_input_tokens") String estimatedInputTokens,
                              @QueryParam("tenant") @DefaultValue("") String tenant,
                              @QueryParam("input") @DefaultValue("") String input) {
        if (workerType == null || workerType.isBlank()) {
            throw new BadRequestException("query parameter worker_type is required");
        }
        // parsed here, not by JAX-RS: a value it cannot convert is a bare 404, and NaN converts and then fails every
        // comparison (a NaN budget or latency target read as none)
        int minContextTokens = (int) whole("min_context_tokens", minContext, Integer.MAX_VALUE);
        double latencyTargetMs = amount("latency_target_ms", latencyTarget);
        double budgetUsd = amount("budget_usd", budget);
        long inputTokens = whole("estimated_input_tokens", estimatedInputTokens, RouterGrpcService.MAX_INPUT_TOKENS);
        ModelTier tier = null;
        if (minTier != null && !minTier.isBlank()) {
            try {
                tier = ModelTier.valueOf(minTier.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new BadRequestException("min_tier must be one of SMALL, MEDIUM, LARGE, ORACLE");
            }
        }
        Selection selection = routing.route(new SelectionRequest(workerType, capabilities, minContextTokens, tier,
                latencyTargetMs, residencyTags, budgetUsd, Set.of(), inputTokens).withStepText(input), tenant);
        List<CandidateView> candidates = new ArrayList<>();
        for (CandidateEvaluation c : selection.candidates()) {
            candidates.add(new CandidateView(c.backend().model().id(), c.backend().pool().id(),
                    c.backend().model().tier().name(), c.eligible(), c.rejection(), c.p95Millis(), c.errorRate(),
                    c.quality(), c.qualityEstimate().source().label(), c.qualityEstimate().samples(),
                    c.estimatedCostUsd(), c.inFlight(), c.capacity(), pools.circuitLabel(c.backend()),
                    c.rateLimitedForMillis(), c.rank()));
        }
        return new DecisionView(workerType, selection.chosen() ? selection.best().backend().model().id() : null,
                selection.chosen() ? selection.best().backend().pool().id() : null, selection.policy(),
                selection.qualityTarget(), selection.budgetDowngrade(), selection.explanation(), candidates);
    }

    /** A decimal query parameter: absent is 0 (none), else a finite number, not negative. */
    private static double amount(String name, String value) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            double v = Double.parseDouble(value.strip());
            if (v >= 0 && v < Double.POSITIVE_INFINITY) {
                return v;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new BadRequestException("query parameter " + name + " must be a finite number, not negative; got '"
                + value + "'");
    }

    /** A whole-number query parameter: absent is 0, else in [0, max]. */
    private static long whole(String name, String value, long max) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            long v = Long.parseLong(value.strip());
            if (v >= 0 && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new BadRequestException("query parameter " + name + " must be a whole number in [0, " + max
                + "]; got '" + value + "'");
    }

    /** A refused request's reason in the body, like every other error of this API (the default body is empty). */
    @ServerExceptionMapper
    public Response badRequest(BadRequestException e) {
        return error(Response.Status.BAD_REQUEST, e.getMessage());
    }

    /** Live profile of every backend (model@pool). */
    @GET
    @Path("/backends")
    public List<BackendView> backends() {
        List<BackendView> views = new ArrayList<>();
        for (Backend b : catalogs.current().backendList()) {
            BackendProfiles.Profile p = profiles.existing(b);
            views.add(new BackendView(b.key(), b.model().id(), b.pool().id(), p == null ? 0 : p.p95Millis(),
                    p == null ? 0 : p.meanOkMillis(), p == null ? 0 : p.errorRate(), p == null ? 0 : p.samples(),
                    p == null ? 0 : p.successes(), p == null ? 0 : p.failures(), pools.inFlight(b.pool()),
                    b.pool().capacity(), pools.circuitLabel(b), pools.rateLimitedForNanos(b) / 1e6));
        }
        return views;
    }

    /** Review verdicts remembered per worker type and model, with the quality selection uses. */
    @GET
    @Path("/quality")
    public Map<String, Map<String, QualityView>> quality() {
        Map<String, Map<String, QualityView>> out = new TreeMap<>();
        Catalog catalog = catalogs.current();
        quality.snapshot().forEach((type, byModel) -> byModel.forEach((model, v) -> {
            var estimate = catalog.model(model).map(m -> quality.estimate(type, m)).orElse(null);
            out.computeIfAbsent(type, k -> new TreeMap<>()).put(model, new QualityView(v.accepted(), v.rejected(),
                    quality.measured(type, model), estimate == null ? 0 : estimate.value(),
                    estimate == null ? "not in catalog" : estimate.source().label()));
        }));
        return out;
    }

    /** Calibration maps received from the audit service, per stream (backend/worker type/tenant). */
    @GET
    @Path("/calibration")
    public List<CalibrationView> calibration() {
        List<CalibrationView> out = new ArrayList<>();
        new TreeMap<>(calibrations.snapshot()).forEach((stream, m) -> out.add(new CalibrationView(
                stream.replace('\n', '/'), m.method(), m.samples(), m.raw(), m.calibrated())));
        return out;
    }

    /** Reviewed outcomes the prompt-level policy predicts from, per worker type/model. */
    @GET
    @Path("/prediction")
    public List<OutcomesView> prediction() {
        List<OutcomesView> out = new ArrayList<>();
        prediction.summary().forEach((pair, c) -> out.add(new OutcomesView(pair, c[0], c[1])));
        return out;
    }

    /** Spend of every tenant with a budget in its current window. */
    @GET
    @Path("/tenants")
    public Map<String, Budget> tenants() {
        return new TreeMap<>(tenants.snapshot());
    }
}
