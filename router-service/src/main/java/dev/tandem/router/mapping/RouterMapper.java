package dev.tandem.router.mapping;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import dev.tandem.proto.router.v1.BackendEntry;
import dev.tandem.proto.router.v1.Candidate;
import dev.tandem.proto.router.v1.GetCatalogResponse;
import dev.tandem.proto.router.v1.ModelEntry;
import dev.tandem.proto.router.v1.PoolEntry;
import dev.tandem.proto.router.v1.RouteDecision;
import dev.tandem.router.catalog.Backend;
import dev.tandem.router.catalog.Catalog;
import dev.tandem.router.catalog.ModelProfile;
import dev.tandem.router.catalog.WorkerPool;
import dev.tandem.router.client.WorkerPools;
import dev.tandem.router.learning.BackendProfiles;
import dev.tandem.router.selection.CandidateEvaluation;
import dev.tandem.router.selection.Selection;

/** Maps routing decisions and the catalog to their gRPC messages. */
@ApplicationScoped
public class RouterMapper {

    private final WorkerPools pools;

    private final BackendProfiles profiles;

    public RouterMapper(WorkerPools pools, BackendProfiles profiles) {
        this.pools = pools;
        this.profiles = profiles;
    }

    public RouteDecision toDecision(Selection selection) {
        RouteDecision.Builder decision = RouteDecision.newBuilder().setExplanation(selection.explanation())
                .setPolicy(selection.policy()).setExploration(selection.exploration())
                .setBudgetDowngrade(selection.budgetDowngrade()).setEarningTrust(selection.earningTrust())
                .setWindowOverspendFraction(selection.windowOverspendFraction());
        if (selection.chosen()) {
            decision.setModelId(selection.best().backend().model().id())
                    .setPoolId(selection.best().backend().pool().id());
        }
        for (CandidateEvaluation c : selection.candidates()) {
            decision.addCandidates(toCandidate(c));
        }
        return decision.build();
    }

    public Candidate toCandidate(CandidateEvaluation c) {
        return Candidate.newBuilder()
                .setModelId(c.backend().model().id())
                .setPoolId(c.backend().pool().id())
                .setTier(c.backend().model().tier().toProto())
                .setEligible(c.eligible())
                .setRejection(c.rejection())
                .setP95LatencyMs(c.p95Millis())
                .setQuality(c.quality())
                .setEstimatedCostUsd(c.estimatedCostUsd())
                .setInFlight(c.inFlight())
                .setCapacity(c.capacity())
                .setRank(c.rank())
                .setQualitySource(c.qualityEstimate().source().label())
                .setQualitySamples(c.qualityEstimate().samples())
                .setErrorRate(c.errorRate())
                .setCircuit(pools.circuitLabel(c.backend()))
                .setRetryAfterMs(c.rateLimitedForMillis())
                .setExpectedCostUsd(c.expectedCostUsd())
                .setBatchPrice(c.batchPrice())
                .setReviewProbability(c.reviewProbability())
                .setRejectProbability(c.rejectProbability())
                .setReviewCostUsd(c.reviewCostUsd())
                .setEscalationCostUsd(c.escalationCostUsd())
                .setTrustState(c.trustState())
                .build();
    }

    public GetCatalogResponse toCatalog(Catalog catalog) {
        GetCatalogResponse.Builder response = GetCatalogResponse.newBuilder();
        for (ModelProfile m : catalog.models()) {
            response.addModels(toModelEntry(m));
        }
        for (WorkerPool p : catalog.pools()) {
            response.addPools(PoolEntry.newBuilder()
                    .setId(p.id())
                    .setEndpoint(p.endpoint())
                    .addAllModels(p.models())
                    .setCapacity(p.capacity())
                    .setInFlight(pools.inFlight(p))
                    .setGpu(p.gpu())
                    .setCircuit(pools.circuitLabel(p))
                    .setGpus(p.gpus())
                    .setUsdPerGpuSecond(p.usdPerGpuSecond())
                    .build());
        }
        for (Backend b : catalog.backendList()) {
            BackendProfiles.Profile profile = profiles.existing(b);
            response.addBackends(BackendEntry.newBuilder()
                    .setModelId(b.model().id())
                    .setPoolId(b.pool().id())
                    .setCircuit(pools.circuitLabel(b))
                    .setP95LatencyMs(profile == null ? 0 : profile.p95Millis())
                    .setErrorRate(profile == null ? 0 : profile.errorRate())
                    .setSamples(profile == null ? 0 : profile.samples())
                    .setRetryAfterMs(pools.rateLimitedForNanos(b) / 1e6)
                    .build());
        }
        return response.build();
    }

    private static ModelEntry toModelEntry(ModelProfile m) {
        var entry = ModelEntry.newBuilder();
        if (m.offersBatch()) {
            entry.setBatchInputUsdPerMtok(m.batchInputUsdPerMtok()).setBatchOutputUsdPerMtok(m.batchOutputUsdPerMtok());
        }
        return entry
                .setId(m.id())
                .setTier(m.tier().toProto())
                .setInputUsdPerMtok(m.inputUsdPerMtok())
                .setOutputUsdPerMtok(m.outputUsdPerMtok())
                .setCachedInputUsdPerMtok(m.cachedInputUsdPerMtok())
                .addAllCapabilities(sorted(m.capabilities()))
                .setContextTokens(m.contextTokens())
                .addAllResidencyTags(sorted(m.residencyTags()))
                .addAllWorkerTypes(sorted(m.workerTypes()))
                .setPriorQuality(m.priorQuality())
                .build();
    }

    private static List<String> sorted(Set<String> values) {
        List<String> list = new ArrayList<>(values);
        list.sort(null);
        return list;
    }
}
