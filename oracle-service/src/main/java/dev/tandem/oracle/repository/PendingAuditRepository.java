package dev.tandem.oracle.repository;

import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decisions and verdicts the audit service could not take while it was unavailable, in the order they happened,
 * so the reconciler re-sends a decision before its verdict. Bounded by {@code tandem.oracle.audit.pending-capacity};
 * when full the oldest record is dropped with an error log and the {@code tandem.oracle.audit.pending.dropped}
 * counter, rather than growing without limit.
 */
@ApplicationScoped
public class PendingAuditRepository {

    private static final Logger LOG = Logger.getLogger(PendingAuditRepository.class);

    /** One record to re-send: exactly one of the two requests is set. */
    public record PendingRecord(String decisionId, DecideRequest decide, RecordVerdictRequest verdict) {

        public String kind() {
            return decide != null ? "decision" : "verdict";
        }
    }

    private final OracleConfig config;
    private final MeterRegistry registry;

    private final Deque<PendingRecord> queue = new ArrayDeque<>();
    private final Map<String, Integer> pendingPerDecision = new HashMap<>();
    private Counter dropped;

    public PendingAuditRepository(OracleConfig config, MeterRegistry registry) {
        this.config = config;
        this.registry = registry;
    }

    @PostConstruct
    void metrics() {
        dropped = Counter.builder("tandem.oracle.audit.pending.dropped")
                .description("Audit records dropped because the pending list was full").register(registry);
        registry.gauge("tandem.oracle.audit.pending", this, PendingAuditRepository::size);
    }

    public synchronized void addDecision(DecideRequest decide) {
        add(new PendingRecord(decide.getDecisionId(), decide, null));
    }

    public synchronized void addVerdict(RecordVerdictRequest verdict) {
        add(new PendingRecord(verdict.getDecisionId(), null, verdict));
    }

    /** True while something of this decision still waits, so later records must queue behind it. */
    public synchronized boolean hasPending(String decisionId) {
        return pendingPerDecision.containsKey(decisionId);
    }

    public synchronized Optional<PendingRecord> peek() {
        return Optional.ofNullable(queue.peekFirst());
    }

    /** Removes the record at the head once it was delivered. */
    public synchronized void remove(PendingRecord record) {
        if (queue.peekFirst() == record) {
            queue.pollFirst();
            forget(record);
        }
    }

    public synchronized List<PendingRecord> list() {
        return List.copyOf(queue);
    }

    public synchronized int size() {
        return queue.size();
    }

    private void add(PendingRecord record) {
        while (queue.size() >= config.audit().pendingCapacity()) {
            var oldest = queue.pollFirst();
            forget(oldest);
            dropped.increment();
            LOG.errorf("audit pending list full (%d): dropped the %s of %s", config.audit().pendingCapacity(),
                    oldest.kind(), oldest.decisionId());
        }
        queue.addLast(record);
        pendingPerDecision.merge(record.decisionId(), 1, Integer::sum);
    }

    private void forget(PendingRecord record) {
        pendingPerDecision.computeIfPresent(record.decisionId(), (k, n) -> n <= 1 ? null : n - 1);
    }
}
