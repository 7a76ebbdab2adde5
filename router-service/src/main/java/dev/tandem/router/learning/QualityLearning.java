package dev.tandem.router.learning;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import dev.tandem.proto.audit.v1.StreamKey;
import dev.tandem.proto.audit.v1.ListStreamsResponse;
import dev.tandem.proto.audit.v1.OnboardingOutlook;
import dev.tandem.proto.audit.v1.StreamStatus;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.router.client.AuditStreamsClient;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.quarkus.scheduler.ScheduledExecution;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.SmallRyeConfig;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Feeds the quality board and the calibration maps from the audit service: polls its streams (cumulative review
 * counts, trust state and calibration per backend model, worker type and tenant) when an audit client is
 * configured. Each poll adds the verdicts that arrived since the previous one; a stream whose counts went down
 * (the ledger was reset) starts over. The audit service being down only delays learning.
 */
@ApplicationScoped
public class QualityLearning {

    private static final Logger LOG = Logger.getLogger(QualityLearning.class);

    private final AuditStreamsClient audit;

    private final QualityBoard board;

    private final Calibrations calibrations;

    private final StreamOutlooks outlooks;

    public QualityLearning(AuditStreamsClient audit, QualityBoard board, Calibrations calibrations,
            StreamOutlooks outlooks) {
        this.audit = audit;
        this.board = board;
        this.calibrations = calibrations;
        this.outlooks = outlooks;
    }

    /** With an audit service configured, outputs are audited from the first dispatch on, before the first poll. */
    void onStart(@Observes StartupEvent event) {
        if (auditConfigured()) {
            outlooks.expectAudit();
        }
    }

    private final Map<String, long[]> lastSeen = new HashMap<>();
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
        ConfigValue value = ((SmallRyeConfig) ConfigProvider.getConfig())
                .getConfigValue("quarkus.grpc.clients.audit.host");
        return value.getValue() != null && value.getConfigSourceOrdinal() > Integer.MIN_VALUE;
    }

    @Scheduled(identity = "audit-quality-poll", every = "${tandem.router.audit.poll-interval}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP, skipExecutionIf = AuditNotConfigured.class)
    public void poll() {
        try {
            ListStreamsResponse listed = audit.listStreams();
            int streams = apply(listed.getStreamsList(), listed.getOnboardedList());
            if (auditDown) {
                LOG.infof("audit service reachable again: %d streams", streams);
            }
            auditDown = false;
        } catch (RuntimeException e) {
            if (!auditDown) {
                LOG.warnf("audit service unreachable, keeping the last quality counts: %s", e.toString());
            }
            auditDown = true;
        }
    }

    /**
     * Adds the verdicts each stream gained since the last poll to the board (summed per worker type and model over
     * tenants), marks the pairs the audit service suspended (its shared stream, or every tenant's), and replaces
     * the calibration maps.
     */
    public int apply(List<StreamStatus> streams) {
        return apply(streams, List.of());
    }

    /** As {@link #apply(List)}, with the onboarding evidence of the streams the audit service has not seen yet. */
    public synchronized int apply(List<StreamStatus> streams, List<OnboardingOutlook> onboarded) {
        Map<String, Map<String, double[]>> sums = new HashMap<>();
        Map<String, int[]> suspension = new HashMap<>();
        Set<String> suspended = new HashSet<>();
        long added = 0;
        for (StreamStatus s : streams) {
            StreamKey key = AuditStreamKeys.of(s);
            String streamKey = key.getWorkerBackend() + "\n" + key.getWorkerType() + "\n" + key.getTenant();
            long rejected = Math.max(0, s.getRejected());
            long accepted = Math.max(0, s.getReviewed() - rejected);
            long[] last = lastSeen.get(streamKey);
            long da = accepted;
            long dr = rejected;
            if (last != null && accepted >= last[0] && rejected >= last[1]) {
                da = accepted - last[0];
                dr = rejected - last[1];
            }
            lastSeen.put(streamKey, new long[] {accepted, rejected});
            if (da + dr > 0) {
                double[] c = sums.computeIfAbsent(key.getWorkerType(), k -> new HashMap<>())
                        .computeIfAbsent(key.getWorkerBackend(), k -> new double[2]);
                // Reviews over-sample low-confidence outputs, so rejected / reviewed overstates the error rate;
                // the new reviews count as evidence, split by the audit's inverse-probability-weighted rate.
                double n = da + dr;
                double errorRate = s.getErrorRate();
                // (an estimate of 0 next to rejections means the audit service did not report one)
                boolean reported = errorRate > 0 && errorRate <= 1 || errorRate == 0 && s.getRejected() == 0;
                double rejectedShare = reported ? errorRate : dr / n;
                c[0] += n * (1 - rejectedShare);
                c[1] += n * rejectedShare;
                added += da + dr;
            }
            String pair = QualityBoard.pairKey(key.getWorkerType(), key.getWorkerBackend());
            boolean isSuspended = s.getState() == TrustState.TRUST_STATE_SUSPENDED;
            int[] counts = suspension.computeIfAbsent(pair, k -> new int[2]);
            counts[0]++;
            counts[1] += isSuspended ? 1 : 0;
            if (isSuspended && key.getTenant().isEmpty()) {
                suspended.add(pair);
            }
        }
        suspension.forEach((pair, c) -> {
            if (c[0] > 0 && c[0] == c[1]) {
                suspended.add(pair);
            }
        });
        Map<String, Map<String, QualityBoard.Verdicts>> deltas = new HashMap<>();
        sums.forEach((workerType, byModel) -> {
            Map<String, QualityBoard.Verdicts> verdicts = new HashMap<>();
            byModel.forEach((model, c) -> verdicts.put(model, new QualityBoard.Verdicts(c[0], c[1])));
            deltas.put(workerType, verdicts);
        });
        Set<String> before = board.suspendedPairs();
        board.add(deltas, suspended);
        int maps = calibrations.replaceAll(streams);
        outlooks.replaceAll(streams, onboarded);
        for (String pair : suspended) {
            if (!before.contains(pair)) {
                LOG.warnf("audit suspended %s: the router now avoids it", pair.replace('\n', '/'));
            }
        }
        LOG.debugf("audit poll: %d streams, %d new verdicts, %d calibration maps, %d suspended pairs",
                streams.size(), added, maps, suspended.size());
        return streams.size();
    }
}
