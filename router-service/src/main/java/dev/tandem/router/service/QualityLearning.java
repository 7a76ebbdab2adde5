package dev.tandem.router.service;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.router.client.AuditStreamsClient;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.ScheduledExecution;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Feeds the quality board from audit verdicts: polls the audit service's streams (cumulative review counts per
 * backend model and worker type) when an audit client is configured; the audit service being down only delays
 * learning.
 */
@ApplicationScoped
public class QualityLearning {

    private static final Logger LOG = Logger.getLogger(QualityLearning.class);

    @Inject
    AuditStreamsClient audit;

    @Inject
    QualityBoard board;

    private volatile boolean auditDown;

    /** Skips polling unless {@code quarkus.grpc.clients.audit.host} is set. */
    public static class AuditNotConfigured implements Scheduled.SkipPredicate {
        @Override
        public boolean test(ScheduledExecution execution) {
            return !auditConfigured();
        }
    }

    /**
     * True when {@code quarkus.grpc.clients.audit.host} is set by the user: the gRPC extension supplies a default
     * ("localhost") from a defaults source, which must not count.
     */
    public static boolean auditConfigured() {
        io.smallrye.config.ConfigValue value = ((io.smallrye.config.SmallRyeConfig) ConfigProvider.getConfig())
                .getConfigValue("quarkus.grpc.clients.audit.host");
        return value.getValue() != null && value.getConfigSourceOrdinal() > Integer.MIN_VALUE;
    }

    @Scheduled(identity = "audit-quality-poll", every = "${tandem.router.audit.poll-interval}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP, skipExecutionIf = AuditNotConfigured.class)
    void poll() {
        try {
            int streams = apply(audit.listStreams());
            if (auditDown) {
                LOG.infof("audit service reachable again: %d streams", streams);
            }
            auditDown = false;
            LOG.debugf("quality board updated from %d audit streams", streams);
        } catch (RuntimeException e) {
            if (!auditDown) {
                LOG.warnf("audit service unreachable, keeping the last quality counts: %s", e.toString());
            }
            auditDown = true;
        }
    }

    /** Sums the streams' review counts per (worker type, model) over tenants and replaces the board's counts. */
    public int apply(List<StreamStatus> streams) {
        Map<String, Map<String, long[]>> sums = new HashMap<>();
        for (StreamStatus s : streams) {
            long[] counts = sums.computeIfAbsent(s.getWorkerType(), k -> new HashMap<>())
                    .computeIfAbsent(s.getWorkerBackend(), k -> new long[2]);
            counts[0] += Math.max(0, s.getReviewed() - s.getRejected());
            counts[1] += s.getRejected();
        }
        Map<String, Map<String, QualityBoard.Verdicts>> counts = new HashMap<>();
        sums.forEach((workerType, byModel) -> {
            Map<String, QualityBoard.Verdicts> verdicts = new HashMap<>();
            byModel.forEach((model, c) -> verdicts.put(model, new QualityBoard.Verdicts(c[0], c[1])));
            counts.put(workerType, verdicts);
        });
        board.replaceAll(counts);
        return streams.size();
    }
}
