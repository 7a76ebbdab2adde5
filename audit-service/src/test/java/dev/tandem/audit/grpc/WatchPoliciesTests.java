package dev.tandem.audit.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import jakarta.inject.Inject;

import dev.tandem.audit.LedgerDatabase;
import dev.tandem.audit.service.PolicyWatch;
import dev.tandem.proto.audit.v1.AuditServiceGrpc.AuditServiceBlockingStub;
import dev.tandem.proto.audit.v1.AuditServiceGrpc;
import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.StreamPolicy;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.proto.audit.v1.Verdict;
import dev.tandem.proto.audit.v1.WatchPoliciesRequest;
import dev.tandem.proto.audit.v1.WatchPoliciesResponse;

/**
 * WatchPolicies against the real service and ledger: the full set on subscribe, then each stream's new policy
 * version as the service makes it (a new stream, a state change earned by verdicts), heartbeats on a quiet watch,
 * and a new subscription starts again from the full set.
 */
@QuarkusTest
class WatchPoliciesTests {

    static final String TYPE = "classify";
    static final StreamKey KEY = StreamKey.newBuilder().setWorkerBackend(AuditGrpcServiceTests.BACKEND)
            .setWorkerType(TYPE).build();

    @GrpcClient("audit")
    AuditServiceBlockingStub audit;

    @GrpcClient("audit")
    Channel channel;

    @Inject
    PolicyWatch watch;

    private final BlockingQueue<WatchPoliciesResponse> messages = new LinkedBlockingQueue<>();
    private Context.CancellableContext subscription;

    @BeforeEach
    void cleanLedger() throws Exception {
        LedgerDatabase.clean();
    }

    @AfterEach
    void unsubscribe() {
        if (subscription != null) {
            subscription.cancel(null);
        }
    }

    @Test
    void aNewStreamAndItsStateChangeReachTheWatcherAsTheyHappen() throws Exception {
        subscribe();
        WatchPoliciesResponse first = next(m -> true);
        assertThat(first.getFullSet()).isTrue();
        assertThat(first.getPoliciesList()).isEmpty();
        assertThat(first.getSamplingSeed()).isNotEmpty();

        // the stream's first output creates it in probation
        audit.decide(AuditGrpcServiceTests.request("w/1", TYPE, 0.95));
        StreamPolicy created = next(m -> m.getPoliciesCount() > 0).getPolicies(0);
        assertThat(created.getStream()).isEqualTo(KEY);
        assertThat(created.getState()).isEqualTo(TrustState.TRUST_STATE_PROBATION);

        // 95 clean reviews earn NORMAL (AuditGrpcServiceTests): the new policy comes without being asked for
        audit.recordVerdict(AuditGrpcServiceTests.verdict("w/1", Verdict.VERDICT_ACCEPTED));
        for (int i = 2; i <= 95; i++) {
            audit.decide(AuditGrpcServiceTests.request("w/" + i, TYPE, 0.95));
            audit.recordVerdict(AuditGrpcServiceTests.verdict("w/" + i, Verdict.VERDICT_ACCEPTED));
        }
        StreamPolicy normal = next(m -> m.getPoliciesList().stream()
                .anyMatch(p -> p.getState() == TrustState.TRUST_STATE_NORMAL)).getPolicies(0);
        assertThat(normal.getPolicyVersion()).isGreaterThan(created.getPolicyVersion());
        assertThat(normal.getBlockingRate()).isPositive();
    }

    @Test
    void aQuietWatchGetsHeartbeatsAndANewSubscriptionStartsFromTheFullSet() throws Exception {
        audit.decide(AuditGrpcServiceTests.request("h/1", TYPE, 0.95));
        subscribe();
        WatchPoliciesResponse first = next(m -> true);
        assertThat(first.getFullSet()).isTrue();
        assertThat(first.getPoliciesList()).extracting(StreamPolicy::getStream).containsExactly(KEY);

        // the test profile's heartbeat is 1 s
        WatchPoliciesResponse heartbeat = next(m -> true);
        assertThat(heartbeat.getFullSet()).isFalse();
        assertThat(heartbeat.getPoliciesList()).isEmpty();

        int watchers = watch.size();
        subscription.cancel(null);
        eventually(() -> assertThat(watch.size()).isEqualTo(watchers - 1));
        messages.clear();
        subscribe();
        WatchPoliciesResponse again = next(m -> true);
        assertThat(again.getFullSet()).isTrue();
        assertThat(again.getPoliciesList()).extracting(StreamPolicy::getPolicyVersion)
                .containsExactly(first.getPolicies(0).getPolicyVersion());
    }

    private void subscribe() {
        // a call in a context of its own, cancelled with it (as the oracle cancels a watch it gives up)
        subscription = Context.current().fork().withCancellation();
        subscription.run(() -> AuditServiceGrpc.newStub(channel).watchPolicies(
                WatchPoliciesRequest.getDefaultInstance(), new StreamObserver<>() {
                    @Override
                    public void onNext(WatchPoliciesResponse message) {
                        messages.add(message);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                }));
    }

    /** The next message that matches, skipping others (heartbeats, the stream's other versions). */
    private WatchPoliciesResponse next(Predicate<WatchPoliciesResponse> wanted) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < until) {
            WatchPoliciesResponse m = messages.poll(100, TimeUnit.MILLISECONDS);
            if (m != null && wanted.test(m)) {
                return m;
            }
        }
        throw new AssertionError("no such message within 10 s; left: " + List.copyOf(messages));
    }

    private static void eventually(Runnable assertion) {
        Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .untilAsserted(assertion::run);
    }
}
