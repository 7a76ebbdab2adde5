package dev.tandem.audit.grpc;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;

import io.quarkus.grpc.GrpcService;
import io.quarkus.virtual.threads.VirtualThreads;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.MultiEmitter;

import dev.tandem.audit.DecisionFilter;
import dev.tandem.audit.LocalDecision;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.service.InvalidAuditRequestException;
import dev.tandem.audit.service.RequestValidation;
import dev.tandem.audit.service.ReviewQueueService;
import dev.tandem.proto.audit.v1.ClaimReviewTasksRequest;
import dev.tandem.proto.audit.v1.ClaimReviewTasksResponse;
import dev.tandem.proto.audit.v1.ListReviewTasksRequest;
import dev.tandem.proto.audit.v1.ListReviewTasksResponse;
import dev.tandem.proto.audit.v1.ListStateChangesRequest;
import dev.tandem.proto.audit.v1.ListStateChangesResponse;
import dev.tandem.proto.audit.v1.SubmitReviewRequest;
import dev.tandem.proto.audit.v1.SubmitReviewResponse;
import dev.tandem.audit.mapping.ProtoMapper;
import dev.tandem.audit.service.AuditPolicy;
import dev.tandem.audit.service.DecisionService;
import dev.tandem.audit.service.LedgerQueries;
import dev.tandem.audit.service.PolicyWatch;
import dev.tandem.audit.service.OnboardingOutlook;
import dev.tandem.audit.service.OnboardingPriors;
import dev.tandem.audit.service.ReviewOutlook;
import dev.tandem.audit.service.VerdictOutcome;
import dev.tandem.audit.service.VerdictService;
import dev.tandem.grpc.CallRunner;
import dev.tandem.grpc.FieldViolation;
import dev.tandem.proto.audit.v1.AuditService;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.GetPoliciesRequest;
import dev.tandem.proto.audit.v1.GetPoliciesResponse;
import dev.tandem.proto.audit.v1.GetStreamRequest;
import dev.tandem.proto.audit.v1.GetStreamResponse;
import dev.tandem.proto.audit.v1.ListDecisionsRequest;
import dev.tandem.proto.audit.v1.ListDecisionsResponse;
import dev.tandem.proto.audit.v1.ListStreamsRequest;
import dev.tandem.proto.audit.v1.ListStreamsResponse;
import dev.tandem.proto.audit.v1.RecordDecisionsRequest;
import dev.tandem.proto.audit.v1.RecordDecisionsResponse;
import dev.tandem.proto.audit.v1.RecordedDecision;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.RecordVerdictResponse;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.WatchPoliciesRequest;
import dev.tandem.proto.audit.v1.WatchPoliciesResponse;

/**
 * tandem.audit.v1.AuditService over gRPC. Every method blocks on JDBC, so all run on virtual threads; the audit
 * service calls nothing downstream, so there is no deadline to propagate. The methods are not annotated
 * {@code @Blocking}: on the shared HTTP/gRPC server Quarkus (seen on 3.27) can then deliver a unary call's half-close
 * before its message ("Half-closed without a request", quarkusio/quarkus#48940), so the work is offloaded here.
 */
@GrpcService
@SuppressWarnings("deprecation") // requests of the first v1 name their stream by three fields; ProtoMapper.stream reads either form
public class AuditGrpcService implements AuditService {

    private final DecisionService decisions;
    private final VerdictService verdicts;
    private final LedgerQueries queries;
    private final CallRunner calls;

    private final ReviewQueueService reviews;
    private final AuditPolicy auditPolicy;
    private final AuditConfig config;
    private final PolicyWatch watch;
    private final OnboardingPriors onboarding;
    private final ExecutorService blocking;

    public AuditGrpcService(DecisionService decisions, VerdictService verdicts, LedgerQueries queries,
            ReviewQueueService reviews, AuditPolicy auditPolicy, AuditConfig config, PolicyWatch watch,
            OnboardingPriors onboarding, @VirtualThreads ExecutorService blocking) {
        this.decisions = decisions;
        this.onboarding = onboarding;
        this.watch = watch;
        this.blocking = blocking;
        this.auditPolicy = auditPolicy;
        this.verdicts = verdicts;
        this.queries = queries;
        this.reviews = reviews;
        this.config = config;
        this.calls = new CallRunner(blocking, GrpcErrors::toStatus);
    }

    /**
     * Decide holds no thread while the group commit runs: it is decided on the event loop (with the stream's
     * policy cached that is pure CPU: a hash and a few comparisons; the service reads an uncached stream on a
     * virtual thread itself) and answered when the writer commits the batch.
     */
    @Override
    public Uni<DecideResponse> decide(DecideRequest request) {
        return calls.onEventLoopAsync(request.getTaskId(), () -> decisions.decideAsync(ProtoMapper.toDomain(request))
                .thenApply(o -> ProtoMapper.toProto(o.decisionId(), o.decision(), o.replayed())));
    }

    /** Like Decide: re-decided on the event loop, answered when the group commit has written the whole batch. */
    @Override
    public Uni<RecordDecisionsResponse> recordDecisions(RecordDecisionsRequest request) {
        String taskId = request.getDecisionsCount() == 0 ? "" : request.getDecisions(0).getRequest().getTaskId();
        return calls.onEventLoopAsync(taskId, () -> decisions.recordAsync(locals(request)).thenApply(outcomes -> {
            RecordDecisionsResponse.Builder response = RecordDecisionsResponse.newBuilder();
            outcomes.forEach(o -> response.addDecisions(RecordedDecision.newBuilder()
                    .setDecision(ProtoMapper.toProto(o.decisionId(), o.decision(), o.replayed()))
                    .setRedecided(o.redecided()).setPolicyVersion(o.policyVersion())));
            return response.build();
        }));
    }

    /** The batch's decisions; a field no domain value can hold is refused with the decision's index. */
    private static List<LocalDecision> locals(RecordDecisionsRequest request) {
        List<LocalDecision> locals = new ArrayList<>(request.getDecisionsCount());
        List<FieldViolation> violations = new ArrayList<>();
        for (int i = 0; i < request.getDecisionsCount(); i++) {
            try {
                locals.add(ProtoMapper.toDomain(request.getDecisions(i)));
            } catch (InvalidAuditRequestException e) {
                String prefix = "decisions[" + i + "].request.";
                e.violations().forEach(v -> violations.add(new FieldViolation(prefix + v.field(), v.description())));
            }
        }
        RequestValidation.throwIfAny(violations);
        return locals;
    }

    @Override
    public Uni<GetPoliciesResponse> getPolicies(GetPoliciesRequest request) {
        return calls.onVirtualThread("", () -> {
            GetPoliciesResponse.Builder response = GetPoliciesResponse.newBuilder()
                    .setSamplingSeed(auditPolicy.seed())
                    .addAllTenantStreams(config.streams().tenantStreams().orElse(List.of()));
            for (StreamRecord s : decisions.publishedPolicies()) {
                response.addPolicies(ProtoMapper.toProto(s, auditPolicy.policy(s)));
            }
            return response.build();
        });
    }

    /**
     * The full set (read from the ledger on a virtual thread), then every policy version this replica takes in and
     * a heartbeat; the subscriber is registered before the read, so nothing between the read and the first message
     * is missed ({@link PolicyWatch}). Changes are sent from the thread that made them: a proto mapping and a write
     * to the call, nothing that blocks.
     */
    @Override
    public Multi<WatchPoliciesResponse> watchPolicies(WatchPoliciesRequest request) {
        return Multi.createFrom().emitter(emitter -> {
            var watcher = new WatchEmitter(emitter);
            Runnable unregister = watch.add(watcher);
            emitter.onTermination(unregister);
            blocking.execute(() -> {
                try {
                    watcher.start(decisions.publishedPolicies());
                } catch (RuntimeException e) {
                    emitter.fail(calls.toStatus(e));
                }
            });
        });
    }

    /** One WatchPolicies subscription's messages. */
    private final class WatchEmitter extends PolicyWatch.Watcher {

        private final MultiEmitter<? super WatchPoliciesResponse> emitter;

        WatchEmitter(MultiEmitter<? super WatchPoliciesResponse> emitter) {
            this.emitter = emitter;
        }

        private WatchPoliciesResponse.Builder message() {
            return WatchPoliciesResponse.newBuilder().setSamplingSeed(auditPolicy.seed())
                    .addAllTenantStreams(config.streams().tenantStreams().orElse(List.of()));
        }

        private void send(WatchPoliciesResponse.Builder message) {
            if (!emitter.isCancelled()) {
                emitter.emit(message.build());
            }
        }

        @Override
        protected void sendFullSet(List<StreamRecord> streams) {
            var message = message().setFullSet(true);
            streams.forEach(s -> message.addPolicies(ProtoMapper.toProto(s, auditPolicy.policy(s))));
            send(message);
        }

        @Override
        protected void sendChanged(StreamRecord s) {
            send(message().addPolicies(ProtoMapper.toProto(s, auditPolicy.policy(s))));
        }

        @Override
        protected void sendHeartbeat() {
            send(message());
        }
    }

    @Override
    public Uni<RecordVerdictResponse> recordVerdict(RecordVerdictRequest request) {
        // The task id is known only from the stored decision: the service puts it in the MDC.
        return calls.onVirtualThread("", () -> {
            VerdictOutcome outcome = verdicts.recordVerdict(ProtoMapper.toDomain(request));
            return RecordVerdictResponse.newBuilder()
                    .setDuplicate(outcome.duplicate())
                    .setStream(status(outcome.stream()))
                    .build();
        });
    }

    @Override
    public Uni<SubmitReviewResponse> submitReview(SubmitReviewRequest request) {
        return calls.onVirtualThread("", () -> {
            VerdictOutcome outcome = reviews.submit(ProtoMapper.toDomain(request), request.getClaimToken());
            return SubmitReviewResponse.newBuilder().setDuplicate(outcome.duplicate())
                    .setStream(status(outcome.stream())).build();
        });
    }

    @Override
    public Uni<ListReviewTasksResponse> listReviewTasks(ListReviewTasksRequest request) {
        return calls.onVirtualThread("", () -> {
            ListReviewTasksResponse.Builder response = ListReviewTasksResponse.newBuilder();
            StreamKey only = ProtoMapper.stream(request.hasStream(), request.getStream(), request.getWorkerBackend(),
                    request.getWorkerType(), request.getTenant());
            reviews.list(ProtoMapper.toDomain(request.getQueue()), only.workerBackend(), only.workerType(),
                    only.tenant(), request.getIncludeClaimed(), request.getPageSize())
                    .forEach(t -> response.addTasks(ProtoMapper.toProto(t)));
            return response.build();
        });
    }

    @Override
    public Uni<ClaimReviewTasksResponse> claimReviewTasks(ClaimReviewTasksRequest request) {
        return calls.onVirtualThread("", () -> {
            ClaimReviewTasksResponse.Builder response = ClaimReviewTasksResponse.newBuilder();
            reviews.claim(ProtoMapper.toDomain(request.getQueue()), request.getReviewer(), request.getMaxTasks(),
                    request.getLeaseSeconds(), request.getDecisionId())
                    .forEach(t -> response.addTasks(ProtoMapper.toProto(t)));
            return response.build();
        });
    }

    @Override
    public Uni<ListStateChangesResponse> listStateChanges(ListStateChangesRequest request) {
        return calls.onVirtualThread("", () -> {
            ListStateChangesResponse.Builder response = ListStateChangesResponse.newBuilder();
            StreamKey only = ProtoMapper.stream(request.hasStream(), request.getStream(), request.getWorkerBackend(),
                    request.getWorkerType(), request.getTenant());
            queries.listStateChanges(only.workerBackend(), only.workerType(), only.tenant(), request.getPageSize()).forEach(c -> response.addChanges(ProtoMapper.toProto(c)));
            return response.build();
        });
    }

    private StreamStatus status(StreamRecord s) {
        var outlook = ReviewOutlook.of(s, config.sampling().normalRate());
        double target = config.target().forStream(s.key());
        StreamStatus.Builder status = ProtoMapper.toProto(s, 0, target).toBuilder()
                .setReviewProbability(outlook.reviewProbability())
                .setBlockingProbability(outlook.blockingProbability())
                .setProjectedReviewProbability(outlook.projectedReviewProbability())
                .setProjectionSamples(s.calibration() == null ? 0 : s.calibration().samples());
        // the evidence informs a stream only in probation: once trusted, tightened or suspended, production spoke
        if (s.state() == TrustState.PROBATION) {
            OnboardingOutlook.of(s.key(), onboarding.forStream(s.key()), s.stateRejected(), s.stateReviewed(),
                    target, config).ifPresent(o -> status.setOnboarding(ProtoMapper.toProto(o)));
        }
        return status.build();
    }

    @Override
    public Uni<GetStreamResponse> getStream(GetStreamRequest request) {
        // a tenant without streams of its own is answered with the shared stream its outputs are decided in
        return calls.onVirtualThread("", () -> GetStreamResponse.newBuilder()
                .setStream(status(queries.getStream(decisions.streamOf(ProtoMapper.stream(request.hasStream(),
                        request.getStream(), request.getWorkerBackend(), request.getWorkerType(),
                        request.getTenant())))))
                .build());
    }

    @Override
    public Uni<ListStreamsResponse> listStreams(ListStreamsRequest request) {
        return calls.onVirtualThread("", () -> {
            ListStreamsResponse.Builder response = ListStreamsResponse.newBuilder();
            queries.listStreams().forEach(s -> response.addStreams(status(s)));
            for (var e : onboarding.all()) {
                StreamKey key = new StreamKey(e.workerBackend(), e.workerType(), "");
                OnboardingOutlook.of(key, Optional.of(e), 0, 0, config.target().forStream(key), config)
                        .ifPresent(o -> response.addOnboarded(ProtoMapper.toProto(o)));
            }
            return response.build();
        });
    }

    @Override
    public Uni<ListDecisionsResponse> listDecisions(ListDecisionsRequest request) {
        return calls.onVirtualThread(request.getTaskId(), () -> {
            ListDecisionsResponse.Builder response = ListDecisionsResponse.newBuilder();
            StreamKey only = ProtoMapper.stream(request.hasStream(), request.getStream(), request.getWorkerBackend(),
                    request.getWorkerType(), request.getTenant());
            Instant after = request.hasDecidedAfter()
                    ? ProtoMapper.toInstant("decided_after", request.getDecidedAfter()) : null;
            Instant before = request.hasDecidedBefore()
                    ? ProtoMapper.toInstant("decided_before", request.getDecidedBefore()) : null;
            queries.listDecisions(new DecisionFilter(request.getTaskId(), only.workerBackend(), only.workerType(),
                    only.tenant(), after, before, request.getPageSize()))
                    .forEach(e -> response.addDecisions(ProtoMapper.toProto(e)));
            return response.build();
        });
    }
}
