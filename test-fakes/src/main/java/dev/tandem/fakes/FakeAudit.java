package dev.tandem.fakes;

import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.AuditReason;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecideResponse;
import dev.tandem.proto.audit.v1.ListStreamsRequest;
import dev.tandem.proto.audit.v1.ListStreamsResponse;
import dev.tandem.proto.audit.v1.MutinyAuditServiceGrpc;
import dev.tandem.proto.audit.v1.GetPoliciesRequest;
import dev.tandem.proto.audit.v1.GetPoliciesResponse;
import dev.tandem.proto.audit.v1.RecordDecisionsRequest;
import dev.tandem.proto.audit.v1.RecordDecisionsResponse;
import dev.tandem.proto.audit.v1.RecordedDecision;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.RecordVerdictResponse;
import dev.tandem.proto.audit.v1.ReviewMode;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.proto.audit.v1.WatchPoliciesRequest;
import dev.tandem.proto.audit.v1.WatchPoliciesResponse;
import io.grpc.Status;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * An audit service that decides as the test says, records what it was told and lists the streams the test gives it;
 * can be switched off. Served by the oracle's tests (a {@code @GrpcService} subclass) and by the router's (a plain
 * gRPC server).
 */
public class FakeAudit extends MutinyAuditServiceGrpc.AuditServiceImplBase {

    /** The sampling seed the fake publishes. */
    public static final String SEED = "fake-seed";

    private final FakeAuditState state;

    public FakeAudit(FakeAuditState state) {
        this.state = state;
    }

    @Override
    public Uni<DecideResponse> decide(DecideRequest request) {
        state.attempts.add("decide:" + request.getDecisionId());
        if (state.refuse != null) {
            return failure(Status.fromCode(state.refuse), "refused by the fake");
        }
        if (state.down) {
            return failure(Status.UNAVAILABLE, "audit down");
        }
        state.calls.add("decide:" + request.getDecisionId());
        state.decisions.put(request.getDecisionId(), request);
        var action = state.actions.getOrDefault(request.getStream().getWorkerType(),
                request.getConfidence() < 0.5 ? AuditAction.AUDIT_ACTION_REVIEW : AuditAction.AUDIT_ACTION_PASS);
        var review = action == AuditAction.AUDIT_ACTION_REVIEW;
        return Uni.createFrom().item(DecideResponse.newBuilder().setDecisionId(request.getDecisionId())
                .setAction(action)
                .setReason(!review ? AuditReason.AUDIT_REASON_TRUSTED
                        : request.getConfidence() < 0.5 ? AuditReason.AUDIT_REASON_LOW_CONFIDENCE
                        : AuditReason.AUDIT_REASON_PROBATION)
                .setMode(review ? state.mode : ReviewMode.REVIEW_MODE_UNSPECIFIED)
                .setSamplingProbability(review ? 1.0 : 0.1).setConfidenceThreshold(0.5)
                .setState(TrustState.TRUST_STATE_NORMAL).setExplanation("fake decision")
                // as the audit service: the caller's calibrated confidence, recorded as sent
                .setCalibratedConfidence(request.getConfidence()).build());
    }

    @Override
    public Uni<RecordVerdictResponse> recordVerdict(RecordVerdictRequest request) {
        state.attempts.add("verdict:" + request.getDecisionId());
        if (state.refuse != null) {
            return failure(Status.fromCode(state.refuse), "refused by the fake");
        }
        if (state.down) {
            return failure(Status.UNAVAILABLE, "audit down");
        }
        state.calls.add("verdict:" + request.getDecisionId());
        boolean duplicate = state.verdicts.putIfAbsent(request.getDecisionId(), request) != null;
        return Uni.createFrom().item(RecordVerdictResponse.newBuilder().setDuplicate(duplicate).build());
    }

    @Override
    public Uni<ListStreamsResponse> listStreams(ListStreamsRequest request) {
        if (state.down) {
            return failure(Status.UNAVAILABLE, "audit down");
        }
        return Uni.createFrom().item(ListStreamsResponse.newBuilder().addAllStreams(state.streams).build());
    }

    @Override
    public Uni<GetPoliciesResponse> getPolicies(GetPoliciesRequest request) {
        state.policyReads.incrementAndGet();
        if (state.down) {
            return failure(Status.UNAVAILABLE, "audit down");
        }
        return Uni.createFrom().item(GetPoliciesResponse.newBuilder().addAllPolicies(state.policies)
                .setSamplingSeed(SEED)
                .build());
    }

    /**
     * The full set of {@link FakeAuditState#policies}, then what {@link FakeAuditState#publish} publishes, until
     * {@link FakeAuditState#breakWatches} or the caller cancels.
     */
    @Override
    public Multi<WatchPoliciesResponse> watchPolicies(WatchPoliciesRequest request) {
        if (state.watchUnimplemented) {
            return Multi.createFrom().failure(Status.UNIMPLEMENTED.withDescription("no WatchPolicies here")
                    .asRuntimeException());
        }
        state.watchSubscriptions.incrementAndGet();
        return Multi.createFrom().emitter(watch -> {
            watch.onTermination(() -> state.watchers.remove(watch)); // the caller went away
            synchronized (watch) {
                watch.emit(WatchPoliciesResponse.newBuilder().setFullSet(true).addAllPolicies(state.policies)
                        .setSamplingSeed(SEED).build());
                state.watchers.add(watch);
            }
        });
    }

    /**
     * Stores each decision once (a replay answers the stored one) and answers the caller's decision, or a blocking
     * review for the worker types in {@code redecideAsReview}, as the audit service does after a policy change.
     */
    @Override
    public Uni<RecordDecisionsResponse> recordDecisions(RecordDecisionsRequest request) {
        var ids = request.getDecisionsList().stream().map(d -> d.getRequest().getDecisionId()).toList();
        state.attempts.add("record:" + ids);
        boolean fail = state.down || state.failRecords.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        if (fail && !state.failAfterCommit) {
            return failure(Status.UNAVAILABLE, "audit down");
        }
        var response = RecordDecisionsResponse.newBuilder();
        for (var local : request.getDecisionsList()) {
            var id = local.getRequest().getDecisionId();
            boolean redecide = state.redecideAsReview.contains(local.getRequest().getStream().getWorkerType());
            var stored = redecide ? local.toBuilder().setAction(AuditAction.AUDIT_ACTION_REVIEW)
                    .setReason(AuditReason.AUDIT_REASON_OUTGOING_LIMIT).setMode(ReviewMode.REVIEW_MODE_BLOCKING)
                    .build() : local;
            var previous = state.recorded.putIfAbsent(id, stored);
            var kept = previous == null ? stored : previous;
            state.decisions.put(id, local.getRequest());
            response.addDecisions(RecordedDecision.newBuilder().setRedecided(redecide).setDecision(
                    DecideResponse.newBuilder().setDecisionId(id).setAction(kept.getAction())
                            .setReason(kept.getReason()).setMode(kept.getMode()).setReplayed(previous != null)
                            .setSamplingProbability(0.1).setState(TrustState.TRUST_STATE_NORMAL)
                            .setExplanation("fake recorded decision")
                            .setCalibratedConfidence(local.getRequest().getConfidence())));
        }
        if (fail) {
            // committed, but the answer is lost
            return failure(Status.UNAVAILABLE, "answer lost");
        }
        state.calls.add("record:" + ids);
        return Uni.createFrom().item(response.build());
    }

    private static <T> Uni<T> failure(Status status, String description) {
        return Uni.createFrom().failure(status.withDescription(description).asRuntimeException());
    }
}
