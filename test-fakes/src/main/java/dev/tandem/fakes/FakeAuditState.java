package dev.tandem.fakes;

import dev.tandem.proto.audit.v1.AuditAction;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.LocalDecision;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.ReviewMode;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.StreamPolicy;
import dev.tandem.proto.audit.v1.WatchPoliciesResponse;
import io.grpc.Status;
import io.smallrye.mutiny.subscription.MultiEmitter;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the fake audit service decides, set by each test, and what it recorded. A service's tests make it a
 * {@code @Singleton} bean (no client proxy: tests and fakes read these fields directly).
 */
public class FakeAuditState {

    /** Action per worker type; unset types are reviewed below confidence 0.5 and passed otherwise. */
    public final Map<String, AuditAction> actions = new ConcurrentHashMap<>();
    public volatile ReviewMode mode = ReviewMode.REVIEW_MODE_BLOCKING;
    /** When true every call fails with UNAVAILABLE. */
    public volatile boolean down;
    /** When set, every call is refused with this status (after being counted in {@link #attempts}). */
    public volatile Status.Code refuse;
    /** Every call that reached the fake, answered or not. */
    public final List<String> attempts = new CopyOnWriteArrayList<>();

    /** Every call that reached the fake, in order: "decide:ID" and "verdict:ID". */
    public final List<String> calls = new CopyOnWriteArrayList<>();
    public final Map<String, DecideRequest> decisions = new ConcurrentHashMap<>();
    public final Map<String, RecordVerdictRequest> verdicts = new ConcurrentHashMap<>();
    /** What ListStreams answers. */
    public final List<StreamStatus> streams = new CopyOnWriteArrayList<>();

    /** Published policies (GetPolicies, and WatchPolicies' full set); none by default, so the oracle decides remotely. */
    public final List<StreamPolicy> policies = new CopyOnWriteArrayList<>();
    /** The open WatchPolicies subscriptions; kept across {@link #reset()}: the oracle's watch outlives a test. */
    public final List<MultiEmitter<? super WatchPoliciesResponse>> watchers = new CopyOnWriteArrayList<>();
    /** GetPolicies calls answered or refused. */
    public final AtomicInteger policyReads = new AtomicInteger();
    /** WatchPolicies subscriptions ever started. */
    public final AtomicInteger watchSubscriptions = new AtomicInteger();
    /** When true WatchPolicies answers UNIMPLEMENTED, as an audit service from before it did. */
    public volatile boolean watchUnimplemented;
    /** Worker types whose recorded decisions the fake re-decides as blocking reviews (a policy changed). */
    public final Set<String> redecideAsReview = ConcurrentHashMap.newKeySet();
    /** RecordDecisions calls to fail with UNAVAILABLE, after committing them or not. */
    public final AtomicInteger failRecords = new AtomicInteger();
    public volatile boolean failAfterCommit;
    /** Every decision stored by RecordDecisions, in order, each once. */
    public final Map<String, LocalDecision> recorded = new ConcurrentHashMap<>();

    /** Publishes a policy: to GetPolicies and to every open watch, as a change. */
    public void publish(StreamPolicy policy) {
        policies.removeIf(p -> p.getStream().equals(policy.getStream()));
        policies.add(policy);
        var change = WatchPoliciesResponse.newBuilder().addPolicies(policy).setSamplingSeed(FakeAudit.SEED).build();
        for (var w : watchers) {
            synchronized (w) {
                w.emit(change); // a watch whose caller went away has left the list (its termination)
            }
        }
    }

    /** Ends every open watch with UNAVAILABLE, as a restarting audit service does. */
    public void breakWatches() {
        for (var w : watchers) {
            watchers.remove(w);
            synchronized (w) {
                w.fail(Status.UNAVAILABLE.withDescription("audit restarting").asRuntimeException());
            }
        }
    }

    public void reset() {
        watchUnimplemented = false;
        policies.clear();
        redecideAsReview.clear();
        failRecords.set(0);
        failAfterCommit = false;
        recorded.clear();
        actions.clear();
        mode = ReviewMode.REVIEW_MODE_BLOCKING;
        down = false;
        refuse = null;
        attempts.clear();
        calls.clear();
        decisions.clear();
        verdicts.clear();
        streams.clear();
    }
}
