package dev.tandem.oracle.client;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import jakarta.inject.Inject;

import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.oracle.fakes.RouterReplicas;
import dev.tandem.oracle.fakes.RouterReplicas.Call;
import dev.tandem.oracle.fakes.RouterReplicas.Replica;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import dev.tandem.proto.router.v1.SettleStepRequest;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Task affinity with two router replicas behind one name (real gRPC servers, {@link RouterReplicas}): the oracle's
 * router client as Quarkus builds it ({@code quarkus.grpc.clients.router}, customized by {@link RouterTaskAffinity})
 * sends every keyed call of a task to one replica, a restarted client sends the repeats there too, the task's
 * CancelCalls reaches that replica, and when it is down the calls go to the other.
 */
@QuarkusTest
@TestProfile(RouterTaskAffinityTests.TwoRouters.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RouterTaskAffinityTests {

    public static class TwoRouters implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "quarkus.grpc.clients.router.name-resolver", RouterReplicas.SCHEME,
                    "quarkus.grpc.clients.router.host", "routers",
                    // no submitted task of another test's may run here and call the replicas
                    "tandem.oracle.tasks.submitted.run", "false");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(RouterReplicas.class));
        }
    }

    static {
        RouterReplicas.registerResolver(); // in the class loader the application's channels are built in
    }

    static final String TENANT = "acme";
    static final int TASKS = 24;

    @Inject
    RouterClient router;

    @Inject
    RouterTaskAffinity affinity;

    @Inject
    OracleConfig config;

    @Test
    @Order(1)
    void everyKeyedCallOfATaskItsSettlementAndItsCancellationReachOneReplicaAndTasksSpread() {
        List<String> tasks = tasks("spread");
        for (String task : tasks) {
            runKeyedCalls(router, task);
            router.settleStep(SettleStepRequest.newBuilder().setTenant(TENANT).setTaskId(task).setStepId("s1")
                    .build());
            // SettleStep and CancelCalls are sent without waiting
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> received(task).stream().anyMatch(c -> c.rpc().equals("SettleStep")));
            router.cancelCalls(task, TENANT);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> tasks.stream()
                .allMatch(task -> received(task).stream().anyMatch(c -> c.rpc().equals("CancelCalls"))));

        Map<String, Replica> replicaOf = new HashMap<>();
        for (String task : tasks) {
            assertThat(replicasOf(task)).as("replicas that received calls of %s", task).hasSize(1);
            replicaOf.put(task, replicasOf(task).iterator().next());
            assertThat(received(task)).extracting(Call::rpc)
                    .containsExactly("Dispatch", "Review", "Dispatch", "SettleStep", "CancelCalls");
        }
        assertThat(new HashSet<>(replicaOf.values())).as("replicas holding tasks").hasSize(2);
    }

    @Test
    @Order(2)
    void unkeyedCallsSpreadOverTheReplicas() {
        String task = "unkeyed-" + System.nanoTime();
        for (int i = 0; i < 40; i++) {
            router.dispatch(DispatchRequest.newBuilder().setTenant(TENANT).setTaskId(task).setStepId("s" + i)
                    .build(), deadline());
        }
        assertThat(replicasOf(task)).hasSize(2);
    }

    @Test
    @Order(3)
    void aRestartedClientSendsATasksRepeatsToTheSameReplica() throws InterruptedException {
        List<String> tasks = tasks("restart");
        Map<String, Replica> first = new HashMap<>();
        for (String task : tasks) {
            runKeyedCalls(router, task);
            first.put(task, replicasOf(task).iterator().next());
        }

        // the oracle restarted: a new channel, as Quarkus builds it, whose name resolves in the other order
        NettyChannelBuilder builder = NettyChannelBuilder.forTarget(RouterReplicas.SCHEME + "://reversed")
                .usePlaintext();
        ManagedChannel channel = builder.defaultServiceConfig(affinity.customize("router", null, builder)).build();
        try {
            var restarted = new RouterClient(RouterServiceGrpc.newBlockingStub(channel), channel, config);
            for (String task : tasks) {
                runKeyedCalls(restarted, task);
                assertThat(replicasOf(task)).as("replicas that received calls of %s", task)
                        .containsExactly(first.get(task));
                assertThat(received(task)).hasSize(6);
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(4)
    void whenATasksReplicaIsDownItsCallsGoToTheOther() throws InterruptedException {
        List<String> tasks = tasks("failover");
        for (String task : tasks) {
            runKeyedCalls(router, task);
        }
        Replica down = RouterReplicas.replicas.get(0);
        Replica other = RouterReplicas.replicas.get(1);
        List<String> onDown = tasks.stream().filter(t -> replicasOf(t).contains(down)).toList();
        List<String> onOther = tasks.stream().filter(t -> replicasOf(t).contains(other)).toList();
        assertThat(onDown).isNotEmpty();

        RouterReplicas.stop(down);
        try {
            for (String task : tasks) {
                // no call fails, not even the first after the kill, which may race the closing connection: the
                // channel re-sends a call the replica never received, and a keyed call cut off is sent again
                runKeyedCalls(router, task);
                router.cancelCalls(task, TENANT);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> tasks.stream()
                    .allMatch(task -> other.calls.stream()
                            .anyMatch(c -> c.taskId().equals(task) && c.rpc().equals("CancelCalls"))));
            for (String task : onDown) {
                // the task moved: its repeats and its cancellation reached the replica still up
                assertThat(other.calls.stream().filter(c -> c.taskId().equals(task)).map(Call::rpc))
                        .containsExactly("Dispatch", "Review", "Dispatch", "CancelCalls");
            }
            for (String task : onOther) {
                // the other replica's tasks stayed where they were
                assertThat(other.calls.stream().filter(c -> c.taskId().equals(task))).hasSize(7);
            }
        } finally {
            RouterReplicas.restart(down);
        }
        // back on its port, the replica gets its tasks again once the channel has reconnected
        String task = onDown.get(0);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            runKeyedCalls(router, task);
            return down.calls.stream().anyMatch(c -> c.taskId().equals(task) && c.rpc().equals("Review"));
        });
    }

    @Test
    @Order(5)
    void whenEveryReplicaIsDownCallsFailAndWorkAgainOnceTheyAreBack() throws InterruptedException {
        // as a single router (one address) restarting: UNAVAILABLE meanwhile, served again after
        String task = "outage-" + System.nanoTime();
        for (Replica replica : RouterReplicas.replicas) {
            RouterReplicas.stop(replica);
        }
        try {
            assertThatThrownBy(() -> runKeyedCalls(router, task)).isInstanceOf(StatusRuntimeException.class)
                    .extracting(e -> ((StatusRuntimeException) e).getStatus().getCode())
                    .isEqualTo(Status.Code.UNAVAILABLE);
        } finally {
            for (Replica replica : RouterReplicas.replicas) {
                RouterReplicas.restart(replica);
            }
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
            runKeyedCalls(router, task);
            return true;
        });
        assertThat(replicasOf(task)).hasSize(1);
    }

    @Test
    @Order(6)
    void tasksRunningThroughRollingRestartsOfAReplicaLoseNoCallAndSendEachOnce() throws Exception {
        // a rolling update: the replica drains (GOAWAY, its calls answered), stops and comes back, again and again
        Replica restarted = RouterReplicas.replicas.get(0);
        Map<String, Integer> received = runTasksWhileRestarting(restarted, RouterReplicas::drain);
        // nothing was lost in flight, so nothing was sent twice: a call that raced the GOAWAY was re-sent by the
        // channel before any replica saw it
        assertThat(received).allSatisfy((key, times) -> assertThat(times).as("receipts of %s", key).isEqualTo(1));
    }

    @Test
    @Order(7)
    void tasksRunningWhileAReplicaIsKilledAgainAndAgainLoseNoCall() throws Exception {
        // a crashed pod: its connections reset, calls it had received fail on the wire and are sent again
        Replica killed = RouterReplicas.replicas.get(0);
        Map<String, Integer> received = runTasksWhileRestarting(killed, RouterReplicas::stop);
        // a call sent twice is one the killed replica had received: the repeat reached a replica that routes it again
        // and the worker-level key makes its worker call the first one's (router README, Keyed calls)
        received.forEach((key, times) -> {
            if (times > 1) {
                assertThat(killed.calls).as("replica that received %s first", key).anyMatch(c -> c.key().equals(key));
            }
        });
    }

    /** Stops a replica as a pod goes: drained or killed. */
    interface Stop {
        void stop(Replica replica) throws InterruptedException;
    }

    /**
     * Runs tasks' keyed calls from {@value #RUNNERS} threads while {@code replica} is stopped and started again
     * {@value #RESTARTS} times; asserts that no call failed and that tasks ran on both sides of every restart.
     * Returns how often each key was received, over both replicas.
     */
    private Map<String, Integer> runTasksWhileRestarting(Replica replica, Stop stop) throws Exception {
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> done = new java.util.concurrent.CopyOnWriteArrayList<>();
        var running = new java.util.concurrent.atomic.AtomicBoolean(true);
        String run = "rolling-" + System.nanoTime() + "-";
        var counter = new java.util.concurrent.atomic.AtomicInteger();
        RouterReplicas.replicas.forEach(r -> r.latencyMillis = LATENCY_MILLIS);
        List<Thread> runners = IntStream.range(0, RUNNERS).mapToObj(i -> Thread.ofPlatform().start(() -> {
            while (running.get()) {
                String task = run + counter.incrementAndGet();
                try {
                    runKeyedCalls(router, task);
                    done.add(task);
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
        })).toList();
        try {
            for (int i = 0; i < RESTARTS; i++) {
                Thread.sleep(300);
                stop.stop(replica);
                Thread.sleep(300);
                RouterReplicas.restart(replica);
            }
            Thread.sleep(300);
        } finally {
            running.set(false);
            for (Thread runner : runners) {
                runner.join(30_000);
            }
            RouterReplicas.replicas.forEach(r -> r.latencyMillis = 0);
        }
        Map<String, Long> why = failures.stream().collect(java.util.stream.Collectors.groupingBy(
                e -> e instanceof StatusRuntimeException sre ? sre.getStatus().getCode() + ": "
                        + sre.getStatus().getDescription() + " (" + sre.getCause() + ")" : e.getClass().getSimpleName(),
                java.util.TreeMap::new, java.util.stream.Collectors.counting()));
        System.out.printf("%d tasks through %d restarts of a replica, %d failed: %s%n", done.size() + failures.size(),
                RESTARTS, failures.size(), why);
        assertThat(failures).as("calls failed while a replica restarted").isEmpty();
        assertThat(done).hasSizeGreaterThan(10 * RESTARTS);
        Map<String, Integer> received = new HashMap<>();
        for (Replica r : RouterReplicas.replicas) {
            r.calls.stream().filter(c -> c.taskId().startsWith(run)).forEach(c -> received.merge(c.key(), 1, Integer::sum));
        }
        for (String task : done) {
            for (String step : List.of("/s1/execute", "/s1/review", "/s1/escalate")) {
                assertThat(received).containsKey(task + step);
            }
        }
        return received;
    }

    static final int RUNNERS = 8;
    static final long LATENCY_MILLIS = 20;
    static final int RESTARTS = 5;

    /** A submitted task's calls: its step's Dispatch, the review and the escalation, each keyed. */
    private void runKeyedCalls(RouterClient client, String task) {
        client.dispatch(DispatchRequest.newBuilder().setTenant(TENANT).setTaskId(task).setStepId("s1")
                .setIdempotencyKey(task + "/s1/execute").build(), deadline());
        client.review(ReviewRequest.newBuilder().setTenant(TENANT).setTaskId(task).setStepId("s1")
                .setIdempotencyKey(task + "/s1/review").build(), deadline());
        client.dispatch(DispatchRequest.newBuilder().setTenant(TENANT).setTaskId(task).setStepId("s1")
                .setIdempotencyKey(task + "/s1/escalate").build(), deadline());
    }

    private static List<String> tasks(String prefix) {
        String run = prefix + "-" + System.nanoTime() + "-";
        return IntStream.range(0, TASKS).mapToObj(i -> run + i).toList();
    }

    private static Deadline deadline() {
        return Deadline.after(10, TimeUnit.SECONDS);
    }

    private static Set<Replica> replicasOf(String task) {
        Set<Replica> replicas = new HashSet<>();
        for (Replica replica : RouterReplicas.replicas) {
            if (replica.calls.stream().anyMatch(c -> c.taskId().equals(task))) {
                replicas.add(replica);
            }
        }
        return replicas;
    }

    private static List<Call> received(String task) {
        return RouterReplicas.replicas.stream().flatMap(r -> r.calls.stream())
                .filter(c -> c.taskId().equals(task)).toList();
    }
}
