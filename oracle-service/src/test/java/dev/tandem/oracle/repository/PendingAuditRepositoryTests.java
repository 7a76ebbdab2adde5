package dev.tandem.oracle.repository;

import dev.tandem.oracle.config.OracleConfig;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/** The oracle's pending audit list is bounded: when full it drops its oldest record, and says so. */
class PendingAuditRepositoryTests {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PendingAuditRepository pending = new PendingAuditRepository(capacity(3), registry);
    private final List<LogRecord> errors = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.SEVERE.intValue()) {
                errors.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    /** The one setting the repository reads; every other config method is unused here. */
    private static OracleConfig capacity(int capacity) {
        var audit = (OracleConfig.Audit) Proxy.newProxyInstance(OracleConfig.class.getClassLoader(),
                new Class<?>[] {OracleConfig.Audit.class}, (p, m, a) -> switch (m.getName()) {
                    case "pendingCapacity" -> capacity;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        return (OracleConfig) Proxy.newProxyInstance(OracleConfig.class.getClassLoader(),
                new Class<?>[] {OracleConfig.class}, (p, m, a) -> switch (m.getName()) {
                    case "audit" -> audit;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    private static DecideRequest decision(String id) {
        return DecideRequest.newBuilder().setDecisionId(id).build();
    }

    private static RecordVerdictRequest verdict(String id) {
        return RecordVerdictRequest.newBuilder().setDecisionId(id).build();
    }

    private List<String> listed() {
        return pending.list().stream().map(r -> r.kind() + ":" + r.decisionId()).toList();
    }

    private double dropped() {
        return registry.get("tandem.oracle.audit.pending.dropped").counter().count();
    }

    @BeforeEach
    void wire() {
        pending.metrics();
        Logger.getLogger(PendingAuditRepository.class.getName()).addHandler(capture);
    }

    @AfterEach
    void unwire() {
        Logger.getLogger(PendingAuditRepository.class.getName()).removeHandler(capture);
    }

    @Test
    void underCapacityNothingIsDroppedAndTheOrderIsKept() {
        pending.addDecision(decision("t/a"));
        pending.addVerdict(verdict("t/a"));
        pending.addDecision(decision("t/b"));

        assertThat(listed()).containsExactly("decision:t/a", "verdict:t/a", "decision:t/b");
        assertThat(dropped()).isZero();
        assertThat(errors).isEmpty();
    }

    @Test
    void aFullListDropsItsOldestRecordCountsItAndLogsAnErrorNamingIt() {
        pending.addDecision(decision("t/a"));
        pending.addVerdict(verdict("t/a"));
        pending.addDecision(decision("t/b"));
        pending.addDecision(decision("t/c"));

        assertThat(listed()).containsExactly("verdict:t/a", "decision:t/b", "decision:t/c");
        assertThat(registry.get("tandem.oracle.audit.pending").gauge().value()).isEqualTo(3);
        assertThat(dropped()).isEqualTo(1);
        assertThat(errors).singleElement().satisfies(r -> assertThat(r.getMessage()
                .formatted(r.getParameters() == null ? new Object[0] : r.getParameters()))
                .contains("full").contains("decision of t/a"));
        // t/a's verdict still waits, so a later record of t/a queues behind it
        assertThat(pending.hasPending("t/a")).isTrue();

        pending.addVerdict(verdict("t/c"));

        assertThat(listed()).containsExactly("decision:t/b", "decision:t/c", "verdict:t/c");
        assertThat(dropped()).isEqualTo(2);
        assertThat(errors).hasSize(2);
        assertThat(pending.hasPending("t/a")).as("nothing of t/a is left").isFalse();
    }
}
