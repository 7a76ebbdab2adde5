package dev.tandem.audit.service;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.faulttolerance.Timeout;
import org.jboss.logging.Logger;

import dev.tandem.audit.DecisionEntry;
import dev.tandem.audit.DecisionFilter;
import dev.tandem.audit.StateChange;
import dev.tandem.audit.StreamKey;
import dev.tandem.audit.StreamRecord;
import dev.tandem.audit.config.AuditConfig;
import dev.tandem.audit.repository.DecisionRepository;
import dev.tandem.audit.repository.Ledger;
import dev.tandem.audit.repository.LedgerUnavailableException;
import dev.tandem.audit.repository.StateChangeRepository;
import dev.tandem.audit.repository.StreamRepository;
import dev.tandem.grpc.FieldViolation;

/** Reads of the ledger: streams, decisions and state changes, paged; nothing here writes. */
@ApplicationScoped
public class LedgerQueries {

    private static final Logger LOG = Logger.getLogger(LedgerQueries.class);

    private final Ledger ledger;
    private final StreamRepository streams;
    private final DecisionRepository decisions;
    private final StateChangeRepository stateChanges;
    private final AuditMetrics metrics;
    private final AuditConfig config;

    public LedgerQueries(Ledger ledger, StreamRepository streams, DecisionRepository decisions,
            StateChangeRepository stateChanges, AuditMetrics metrics, AuditConfig config) {
        this.ledger = ledger;
        this.streams = streams;
        this.decisions = decisions;
        this.stateChanges = stateChanges;
        this.metrics = metrics;
        this.config = config;
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
    public List<StreamRecord> listStreams() {
        try {
            return ledger.withConnection(streams::findAll);
        } catch (LedgerUnavailableException e) {
            return knownStreams();
        }
    }

    List<StreamRecord> knownStreams() {
        LOG.warn("ledger unreachable: listing the streams last seen by this replica");
        return metrics.knownStreams().values().stream()
                .sorted(Comparator.comparing((StreamRecord s) -> s.key().toString()))
                .toList();
    }

    @Timeout(5000)
    public List<DecisionEntry> listDecisions(String taskId, String workerBackend, String workerType, int pageSize) {
        return listDecisions(new DecisionFilter(taskId, workerBackend, workerType, null, null, null, pageSize));
    }

    @Timeout(5000)
    public List<DecisionEntry> listDecisions(DecisionFilter requested) {
        RequestValidation.checkFilters("task_id", requested.taskId(), "worker_backend", requested.workerBackend(),
                "worker_type", requested.workerType(), "tenant", requested.tenant());
        RequestValidation.instant("decided_after", requested.decidedAfter());
        RequestValidation.instant("decided_before", requested.decidedBefore());
        DecisionFilter filter = new DecisionFilter(requested.taskId(), requested.workerBackend(),
                requested.workerType(), requested.tenant(), requested.decidedAfter(), requested.decidedBefore(),
                pageSize(requested.limit()));
        return ledger.withConnection(c -> decisions.list(c, filter));
    }

    @Timeout(5000)
    public DecisionEntry getDecision(String decisionId) {
        RequestValidation.checkFilters("decision_id", decisionId);
        return ledger.withConnection(c -> decisions.find(c, decisionId)).orElseThrow(
                () -> new NotFoundException("decision " + decisionId + " is not in the ledger"));
    }

    @Timeout(5000)
    public List<StateChange> listStateChanges(String workerBackend, String workerType, String tenant, int limit) {
        RequestValidation.checkFilters("worker_backend", workerBackend, "worker_type", workerType, "tenant", tenant);
        return ledger.withConnection(c -> stateChanges.list(c, workerBackend, workerType, tenant, pageSize(limit)));
    }

    /** 0 means the default page; negative is refused; above the maximum is capped. */
    public int pageSize(int requested) {
        if (requested < 0) {
            throw new InvalidAuditRequestException(List.of(new FieldViolation("page_size", "must not be negative")));
        }
        AuditConfig.Ledger l = config.ledger();
        return requested == 0 ? l.defaultPageSize() : Math.min(requested, l.maxPageSize());
    }
}
