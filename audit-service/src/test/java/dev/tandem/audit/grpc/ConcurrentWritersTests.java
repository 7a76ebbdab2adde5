package dev.tandem.audit.grpc;

import static dev.tandem.audit.grpc.AuditGrpcServiceTests.request;
import static dev.tandem.audit.grpc.AuditGrpcServiceTests.verdict;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.tandem.audit.LedgerDatabase;
import dev.tandem.proto.audit.v1.AuditServiceGrpc;
import dev.tandem.proto.audit.v1.AuditServiceGrpc.AuditServiceBlockingStub;
import dev.tandem.proto.audit.v1.GetStreamRequest;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.Verdict;

/**
 * Two writers, each on its own gRPC connection (and so on its own server-side database connections), write the
 * same stream at once, as two oracle replicas would; some of their decisions and verdicts are the very same retry.
 */
@QuarkusTest
class ConcurrentWritersTests {

    static final String TYPE = "concurrent";
    static final int PER_WRITER = 40;
    static final int SHARED = 30;

    @TestHTTPResource("/")
    URL server;

    @GrpcClient("audit")
    AuditServiceBlockingStub audit;

    @BeforeEach
    void cleanLedger() throws Exception {
        LedgerDatabase.clean();
    }

    @Test
    void twoWritersOnOneStreamLeaveConsistentCountersAndStateHistory() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch start = new CountDownLatch(1);
        List<ManagedChannel> channels = new ArrayList<>();
        List<Future<Integer>> writers = new ArrayList<>();
        try {
            for (int w = 0; w < 2; w++) {
                ManagedChannel channel = ManagedChannelBuilder.forAddress(server.getHost(), server.getPort())
                        .usePlaintext().build();
                channels.add(channel);
                writers.add(pool.submit(writer(w, AuditServiceGrpc.newBlockingStub(channel), start)));
            }
            start.countDown();
            int nonDuplicateSharedVerdicts = 0;
            for (Future<Integer> writer : writers) {
                nonDuplicateSharedVerdicts += writer.get(120, TimeUnit.SECONDS);
            }
            assertThat(nonDuplicateSharedVerdicts).as("each shared verdict counted once").isEqualTo(SHARED);
        } finally {
            pool.shutdownNow();
            channels.forEach(ManagedChannel::shutdownNow);
        }

        int total = 2 * PER_WRITER + SHARED;
        StreamStatus stream = audit.getStream(GetStreamRequest.newBuilder().setWorkerBackend(AuditGrpcServiceTests.BACKEND)
                        .setWorkerType(TYPE).build())
                .getStream();
        try (Connection c = LedgerDatabase.connect()) {
            assertThat(stream.getDecided()).isEqualTo(total)
                    .isEqualTo(count(c, "SELECT count(*) FROM decisions WHERE worker_type = ?"));
            assertThat(stream.getReviewed()).isEqualTo(total)
                    .isEqualTo(count(c, "SELECT count(*) FROM verdicts JOIN decisions USING (decision_id) "
                            + "WHERE worker_type = ?"));
            assertThat(stream.getRejected()).isEqualTo(count(c, "SELECT count(*) FROM verdicts "
                    + "JOIN decisions USING (decision_id) WHERE worker_type = ? AND verdict = 'REJECTED'"))
                    .isPositive();
            assertThat(count(c, "SELECT count(*) FROM streams WHERE worker_type = ?")).isEqualTo(1);
            // Verdicts applied one at a time: each state change starts where the previous one ended.
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT from_state, to_state FROM state_changes WHERE worker_type = ? ORDER BY id")) {
                ps.setString(1, TYPE);
                try (ResultSet rs = ps.executeQuery()) {
                    String previous = null;
                    int changes = 0;
                    while (rs.next()) {
                        assertThat(rs.getString("from_state")).isEqualTo(previous);
                        previous = rs.getString("to_state");
                        changes++;
                    }
                    assertThat(changes).as("creation at least").isGreaterThanOrEqualTo(1);
                    assertThat(previous).isEqualTo(stream.getState().name().replace("TRUST_STATE_", ""));
                }
            }
        }
    }

    /** Returns how many of the shared verdicts this writer recorded first (not as a duplicate). */
    private Callable<Integer> writer(int w, AuditServiceBlockingStub stub, CountDownLatch start) {
        return () -> {
            start.await();
            int firsts = 0;
            for (int i = 0; i < Math.max(PER_WRITER, SHARED); i++) {
                if (i < PER_WRITER) {
                    String own = "w" + w + "-" + i;
                    stub.decide(request(own, TYPE, 0.9));
                    stub.recordVerdict(verdict(own, i % 7 == 3 ? Verdict.VERDICT_REJECTED : Verdict.VERDICT_ACCEPTED));
                }
                if (i < SHARED) {
                    String shared = "shared-" + i;
                    stub.decide(request(shared, TYPE, 0.9));
                    if (!stub.recordVerdict(verdict(shared, Verdict.VERDICT_ACCEPTED)).getDuplicate()) {
                        firsts++;
                    }
                }
            }
            return firsts;
        };
    }

    private static long count(Connection c, String sql) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, TYPE);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
