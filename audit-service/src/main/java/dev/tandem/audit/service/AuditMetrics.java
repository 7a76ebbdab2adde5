package dev.tandem.audit.service;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

import jakarta.inject.Singleton;

import dev.tandem.audit.config.AuditConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import dev.tandem.audit.AuditAction;
import dev.tandem.audit.AuditReason;
import dev.tandem.audit.ReviewQueue;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.TrustState;
import dev.tandem.audit.Verdict;

/**
 * Audit metrics for the dashboards (Prometheus names in brackets):
 * <ul>
 * <li>{@code tandem.audit.decisions} [tandem_audit_decisions_total]: new decisions by worker_backend, worker_type,
 * action, reason (replays are not counted twice);</li>
 * <li>{@code tandem.audit.verdicts} [tandem_audit_verdicts_total]: new verdicts by verdict;</li>
 * <li>{@code tandem.audit.state.changes} [tandem_audit_state_changes_total]: trust-state changes by from, to;</li>
 * <li>{@code tandem.audit.decide} [tandem_audit_decide_seconds]: Decide latency, ledger write included;</li>
 * <li>{@code tandem.audit.drift.alarms} [tandem_audit_drift_alarms_total]: by stream and detector;</li>
 * <li>{@code tandem.audit.review.queue.pending} [tandem_audit_review_queue_pending]: by mode (model, human);</li>
 * <li>{@code tandem.audit.target.error.rate}: the configured outgoing-error target;</li>
 * <li>per stream (worker_backend, worker_type, tenant): {@code tandem.audit.stream.state} (1 probation .. 5
 * suspended), {@code .review.rate}, {@code .trust.upper.bound} (the switching rules' bound), {@code .error.rate}
 * (IPW outgoing error estimate) with {@code .error.lower.bound} and {@code .error.upper.bound} (its 95 %
 * interval), {@code .ece} (confidence raw / calibrated).</li>
 * </ul>
 * Stream gauges read the last stream record this replica saw; {@link StreamRefresher} refreshes them from the
 * ledger periodically so every replica exports what the others wrote too.
 */
// A singleton, not @ApplicationScoped: injected as itself, without the client proxy whose context look-up on every
// call was about 4 % of the service's CPU on the Decide path at 5,000/s (issue 16).
@Singleton
public class AuditMetrics {

    private final MeterRegistry registry;
    private final Timer decideTimer;
    private final Map<StreamKey, StreamRecord> streams = new ConcurrentHashMap<>();
    private final Map<DecisionSeries, Counter> decisionCounters = new ConcurrentHashMap<>();
    private final Map<ReviewQueue, AtomicLong> queuePending = new ConcurrentHashMap<>();
    // like the decision counters: one look-up per series, not per verdict
    private final Map<Verdict, Counter> verdictCounters = new ConcurrentHashMap<>();
    private final Map<StateChange, Counter> stateChangeCounters = new ConcurrentHashMap<>();

    public AuditMetrics(MeterRegistry registry, AuditConfig config) {
        this.registry = registry;
        double target = config.target().outgoingErrorRate();
        Gauge.builder("tandem.audit.target.error.rate", () -> target)
                .description("Configured target of the outgoing error rate (tandem.audit.target.outgoing-error-rate)")
                .register(registry);
        this.decideTimer = Timer.builder("tandem.audit.decide")
                .description("Decide latency including the durable ledger write")
                .publishPercentileHistogram()
                .register(registry);
    }

    public Timer decideTimer() {
        return decideTimer;
    }

    public void decided(StreamKey key, AuditAction action, AuditReason reason) {
        // Looked up once per series: building the tags and the registry lookup cost more than the increment.
        decisionCounters.computeIfAbsent(new DecisionSeries(key.workerBackend(), key.workerType(), action, reason),
                s -> Counter.builder("tandem.audit.decisions")
                        .description("Audit decisions stored")
                        .tags("worker_backend", s.workerBackend(), "worker_type", s.workerType(),
                                "action", s.action().name(), "reason", s.reason().name())
                        .register(registry))
                .increment();
    }

    private record DecisionSeries(String workerBackend, String workerType, AuditAction action, AuditReason reason) {
    }

    public void verdict(Verdict verdict) {
        verdictCounters.computeIfAbsent(verdict, v -> Counter.builder("tandem.audit.verdicts")
                .description("Review verdicts stored")
                .tag("verdict", v.name())
                .register(registry))
                .increment();
    }

    public void stateChanged(TrustState from, TrustState to) {
        stateChangeCounters.computeIfAbsent(new StateChange(from, to), c -> Counter
                .builder("tandem.audit.state.changes")
                .description("Trust-state changes of streams")
                .tags("from", from == null ? "NEW" : from.name(), "to", to.name())
                .register(registry))
                .increment();
    }

    private record StateChange(TrustState from, TrustState to) {
    }

    public void driftAlarm(StreamKey key, String detector) {
        Counter.builder("tandem.audit.drift.alarms")
                .description("Drift alarms that tightened a stream, by detector (outcome or confidence)")
                .tags("worker_backend", key.workerBackend(), "worker_type", key.workerType(), "tenant", key.tenant(),
                        "detector", detector)
                .register(registry)
                .increment();
    }

    /** Review tasks waiting per queue (model, human). */
    public void queues(Map<ReviewQueue, Long> pending) {
        pending.forEach((queue, count) -> queuePending.computeIfAbsent(queue, q -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder("tandem.audit.review.queue.pending", value, AtomicLong::get)
                    .description("Reviews waiting in a review queue (model: the shadow reviewer; human: people)")
                    .tag("mode", q.name().toLowerCase(Locale.ROOT))
                    .register(registry);
            return value;
        }).set(count));
    }

    /** Records the latest view of a stream; the first sighting registers its gauges. */
    public void observe(StreamRecord stream) {
        if (streams.put(stream.key(), stream) == null) {
            StreamKey key = stream.key();
            Tags tags = Tags.of("worker_backend", key.workerBackend(), "worker_type", key.workerType(),
                    "tenant", key.tenant());
            Gauge.builder("tandem.audit.stream.state", streams, m -> value(m, key, s -> s.state().number()))
                    .description("Trust state: 1 probation, 2 normal, 3 reduced, 4 tightened, 5 suspended")
                    .tags(tags).register(registry);
            Gauge.builder("tandem.audit.stream.review.rate", streams, m -> value(m, key, StreamRecord::reviewRate))
                    .description("Share of decided outputs sent to review")
                    .tags(tags).register(registry);
            Gauge.builder("tandem.audit.stream.trust.upper.bound", streams,
                    m -> value(m, key, StreamRecord::errorRateUpperBound))
                    .description("Credible upper bound of the error rate the stream's switching rules weigh")
                    .tags(tags).register(registry);
            Gauge.builder("tandem.audit.stream.error.rate", streams,
                    m -> value(m, key, StreamRecord::outgoingErrorRate))
                    .description("IPW estimate of the outgoing error rate (errors leaving uncorrected per output)")
                    .tags(tags).register(registry);
            Gauge.builder("tandem.audit.stream.error.lower.bound", streams,
                    m -> value(m, key, StreamRecord::outgoingErrorLower))
                    .description("Lower end of the 95 % interval of the outgoing error rate")
                    .tags(tags).register(registry);
            Gauge.builder("tandem.audit.stream.error.upper.bound", streams,
                    m -> value(m, key, StreamRecord::outgoingErrorUpper))
                    .description("Upper end of the 95 % interval of the outgoing error rate")
                    .tags(tags).register(registry);
            Gauge.builder("tandem.audit.stream.ece", streams,
                    m -> value(m, key, s -> s.calibration() == null ? Double.NaN : s.calibration().eceRaw()))
                    .description("Expected calibration error on held-out verdicts")
                    .tags(tags).tag("confidence", "raw").register(registry);
            Gauge.builder("tandem.audit.stream.ece", streams,
                    m -> value(m, key, s -> s.calibration() == null ? Double.NaN : s.calibration().eceCalibrated()))
                    .description("Expected calibration error on held-out verdicts")
                    .tags(tags).tag("confidence", "calibrated").register(registry);
        }
    }

    /** The streams this replica knows, for a degraded read when the ledger is unreachable. */
    public Map<StreamKey, StreamRecord> knownStreams() {
        return Map.copyOf(streams);
    }

    private static double value(Map<StreamKey, StreamRecord> m, StreamKey key,
            ToDoubleFunction<StreamRecord> f) {
        StreamRecord s = m.get(key);
        return s == null ? Double.NaN : f.applyAsDouble(s);
    }
}
