package dev.tandem.audit.service;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.faulttolerance.Fallback;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.quarkus.scheduler.Scheduled;

import dev.tandem.audit.Decision;
import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.DecisionFilter;
import dev.tandem.audit.DecisionRequest;
import dev.tandem.audit.StateChange;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.VerdictRequest;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.DecisionRepository;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.StateChangeRepository;
import dev.tandem.audit.repository.StreamRepository;

/**
 * The audit service: decisions and verdicts written durably to the ledger, trust kept per stream.
 *
 * <p>Writes are retried on ledger failures (both are idempotent on decision_id, so a retry cannot double-count)
 * but have no fallback: an answer that is not in the ledger must not be acknowledged. The caller (the oracle) owns
 * the fail-safe policy when the audit service is unavailable.
 */
@ApplicationScoped
public class AuditLedgerService {

    private static final Logger LOG = Logger.getLogger(AuditLedgerService.class);

    private final Ledger ledger;
    private final StreamRepository streams;
    private final DecisionRepository decisions;
    private final StateChangeRepository stateChanges;
    private final AuditPolicy auditPolicy;
    private final TrustPolicy trustPolicy;
    private final AuditMetrics metrics;
    private final AuditConfig config;

    public AuditLedgerService(Ledger ledger, StreamRepository streams, DecisionRepository decisions,
            StateChangeRepository stateChanges, AuditPolicy auditPolicy, TrustPolicy trustPolicy,
            AuditMetrics metrics, AuditConfig config) {
        this.ledger = ledger;
        this.streams = streams;
        this.decisions = decisions;
        this.stateChanges = stateChanges;
        this.auditPolicy = auditPolicy;
        this.trustPolicy = trustPolicy;
        this.metrics = metrics;
        this.config = config;
    }

    /** Decides on one output; the decision is committed before this returns. A replay returns the stored one. */
    @Timeout(5000)
    @Retry(maxRetries = 2, delay = 50, jitter = 25, retryOn = LedgerUnavailableException.class)
    public DecideOutcome decide(DecisionRequest request) {
        RequestValidation.check(request);
        return metrics.decideTimer().record(() -> ledger.withConnection(c -> {
            StreamRecord stream = streams.find(c, request.stream()).orElse(null);
            if (stream == null) {
                stream = createStream(c, request.stream());
            }
            Decision decision = auditPolicy.decide(request, stream);
            if (decisions.insertAndCount(c, request, decision)) {
                metrics.decided(request.stream(), decision.action(), decision.reason());
                metrics.observe(stream);
                LOG.debugf("decision %s on %s: %s %s (stream decided %d)", request.decisionId(), request.stream(),
                        decision.action(), decision.reason(), stream.decided() + 1);
                return new DecideOutcome(request.decisionId(), decision, false);
            }
            DecisionEntry stored = decisions.find(c, request.decisionId()).orElseThrow(
                    () -> new SQLException("decision " + request.decisionId() + " conflicted but is not stored"));
            if (!stored.request().stream().equals(request.stream())) {
                LOG.warnf("decision id %s replayed for stream %s but stored for %s: returning the stored decision",
                        request.decisionId(), request.stream(), stored.request().stream());
            }
            return new DecideOutcome(request.decisionId(), stored.decision(), true);
        }));
    }

    /** Records a verdict and applies the trust rules under the stream's row lock; committed before returning. */
    @Timeout(5000)
    @Retry(maxRetries = 2, delay = 50, jitter = 25, retryOn = LedgerUnavailableException.class)
    public VerdictOutcome recordVerdict(VerdictRequest verdict) {
        RequestValidation.check(verdict);
        try {
            return recordVerdictLogged(verdict);
        } finally {
            MDC.remove("taskId");
        }
    }

    private VerdictOutcome recordVerdictLogged(VerdictRequest verdict) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        TrustUpdate[] applied = new TrustUpdate[1];
        VerdictOutcome outcome = ledger.inTransaction(c -> {
            DecisionEntry entry = decisions.find(c, verdict.decisionId()).orElseThrow(
                    () -> new NotFoundException("decision " + verdict.decisionId() + " is not in the ledger"));
            if (!entry.request().taskId().isEmpty()) {
                MDC.put("taskId", entry.request().taskId()); // the verdict request carries no task id
            }
            StreamKey key = entry.request().stream();
            // Lock the stream first: concurrent verdicts on one stream (from any replica) then apply one by one,
            // and a racing retry of this same verdict sees the stored row below.
            StreamRecord stream = streams.findForUpdate(c, key)
                    .orElseThrow(() -> new SQLException("stream " + key + " of a stored decision is missing"));
            if (!decisions.insertVerdictIfAbsent(c, verdict)) {
                var stored = decisions.findVerdict(c, verdict.decisionId()).orElseThrow();
                if (stored != verdict.verdict()) {
                    throw new ConflictingVerdictException("decision " + verdict.decisionId() + " already has verdict "
                            + stored + "; a verdict cannot be changed to " + verdict.verdict());
                }
                return new VerdictOutcome(true, stream);
            }
            TrustUpdate update = trustPolicy.apply(stream, verdict.verdict(), now);
            streams.updateTrust(c, update.stream());
            if (update.stateChanged()) {
                stateChanges.insert(c, key, update.previousState(), update.stream().state(), update.changeReason(),
                        verdict.decisionId());
            }
            applied[0] = update;
            return new VerdictOutcome(false, update.stream());
        });
        metrics.observe(outcome.stream());
        if (!outcome.duplicate()) {
            metrics.verdict(verdict.verdict());
            TrustUpdate update = applied[0];
            if (update.stateChanged()) {
                metrics.stateChanged(update.previousState(), update.stream().state());
                LOG.infof("stream %s: %s -> %s (%s)", update.stream().key(), update.previousState(),
                        update.stream().state(), update.changeReason());
            }
            LOG.debugf("verdict %s on %s: stream %s reviewed %d, rejected %d", verdict.verdict(),
                    verdict.decisionId(), outcome.stream().key(), outcome.stream().reviewed(),
                    outcome.stream().rejected());
        }
        return outcome;
    }

    @Timeout(5000)
    public StreamRecord getStream(StreamKey key) {
        List<FieldViolation> violations = new ArrayList<>();
        RequestValidation.requireId(violations, "worker_backend", key.workerBackend());
        RequestValidation.requireId(violations, "worker_type", key.workerType());
        RequestValidation.throwIfAny(violations);
        return ledger.withConnection(c -> streams.find(c, key)).orElseThrow(
                () -> new NotFoundException("stream " + key + " has no decisions yet"));
    }

    /** Every stream; when the ledger is unreachable, the last state this replica saw (admin reads degrade). */
    @Timeout(5000)
    @Fallback(fallbackMethod = "knownStreams", applyOn = LedgerUnavailableException.class)
    public List<StreamRecord> listStreams() {
        List<StreamRecord> all = ledger.withConnection(streams::findAll);
        all.forEach(metrics::observe);
        return all;
    }

    List<StreamRecord> knownStreams() {
        LOG.warn("ledger unreachable: listing the streams last seen by this replica");
        return metrics.knownStreams().values().stream()
                .sorted(Comparator.comparing((StreamRecord s) -> s.key().toString()))
                .toList();
    }

    @Timeout(5000)
    public List<DecisionEntry> listDecisions(String taskId, String workerBackend, String workerType, int pageSize) {
        DecisionFilter filter = new DecisionFilter(taskId, workerBackend, workerType, pageSize(pageSize));
        return ledger.withConnection(c -> decisions.list(c, filter));
    }

    @Timeout(5000)
    public DecisionEntry getDecision(String decisionId) {
        return ledger.withConnection(c -> decisions.find(c, decisionId)).orElseThrow(
                () -> new NotFoundException("decision " + decisionId + " is not in the ledger"));
    }

    @Timeout(5000)
    public List<StateChange> listStateChanges(String workerBackend, String workerType, int limit) {
        return ledger.withConnection(c -> stateChanges.list(c, workerBackend, workerType, pageSize(limit)));
    }

    /** 0 means the default page; negative is refused; above the maximum is capped. */
    int pageSize(int requested) {
        if (requested < 0) {
            throw new InvalidAuditRequestException(List.of(new FieldViolation("page_size", "must not be negative")));
        }
        AuditConfig.Ledger l = config.ledger();
        return requested == 0 ? l.defaultPageSize() : Math.min(requested, l.maxPageSize());
    }

    /** Refreshes the stream gauges from the ledger, so they include what other replicas wrote. */
    @Scheduled(every = "${tandem.audit.metrics.refresh-interval:15s}", delayed = "1s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void refreshStreamGauges() {
        try {
            ledger.withConnection(streams::findAll).forEach(metrics::observe);
        } catch (LedgerUnavailableException e) {
            LOG.debugf("stream gauges not refreshed: %s", e.getMessage());
        }
    }

    /** A new stream starts in probation; the creation is a state change like any other. */
    private StreamRecord createStream(Connection c, StreamKey key) throws SQLException {
        StreamRecord fresh = trustPolicy.newStream(key, Instant.now().truncatedTo(ChronoUnit.MICROS));
        boolean created = Ledger.inTransaction(c, tx -> {
            boolean inserted = streams.insertIfAbsent(tx, fresh);
            if (inserted) {
                stateChanges.insert(tx, key, null, fresh.state(), "new stream: every output is reviewed", null);
            }
            return inserted;
        });
        if (created) {
            metrics.stateChanged(null, fresh.state());
            LOG.infof("stream %s created in %s", key, fresh.state());
        }
        // Another request or replica may have created it first: read what is stored.
        return streams.find(c, key).orElseThrow(() -> new SQLException("stream " + key + " was not created"));
    }
}
