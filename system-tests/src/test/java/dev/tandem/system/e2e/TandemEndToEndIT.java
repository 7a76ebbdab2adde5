package dev.tandem.system.e2e;

import dev.tandem.proto.audit.v1.AuditServiceGrpc;
import dev.tandem.proto.audit.v1.DecideRequest;
import dev.tandem.proto.audit.v1.DecisionRecord;
import dev.tandem.proto.audit.v1.GetStreamRequest;
import dev.tandem.proto.audit.v1.ListDecisionsRequest;
import dev.tandem.proto.audit.v1.RecordVerdictRequest;
import dev.tandem.proto.audit.v1.TrustState;
import dev.tandem.proto.audit.v1.Verdict;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import dev.tandem.proto.oracle.v1.Plan;
import dev.tandem.proto.oracle.v1.PlanStep;
import dev.tandem.proto.oracle.v1.StepResult;
import dev.tandem.proto.oracle.v1.TaskEvent;
import dev.tandem.system.launch.MetricsText;
import dev.tandem.system.launch.ServiceProcess;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import grpc.health.v1.HealthGrpc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole path with the four services as separate processes started from their built jars, talking gRPC to
 * each other and PostgreSQL, on the offline embedded models. Runs in the {@code verify} phase (bin/test).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(E2eStack.Shared.class)
@Order(2) // first on the shared stack: its tests start from a fresh ledger (junit-platform.properties orders classes)
class TandemEndToEndIT {

    static final String DB = E2eStack.DB;
    static final String PG = E2eStack.PG;
    static final String ORACLE_MODEL = "embedded-bge-oracle";

    static ServiceProcess audit;
    static ServiceProcess worker;
    static ServiceProcess router;
    static ServiceProcess oracle;
    static ManagedChannel oracleChannel;
    static final List<ExecuteResponse> responses = new ArrayList<>();
    /** Stands in for an OpenTelemetry collector: takes the services' OTLP/HTTP trace exports. */
    static WireMockServer collector;

    @BeforeAll
    static void startTandem() {
        var stack = E2eStack.current();
        audit = stack.audit;
        worker = stack.worker;
        router = stack.router;
        oracle = stack.oracle;
        collector = stack.collector;
        oracleChannel = channel(oracle.port);
    }

    @AfterAll
    static void stopTandem() throws Exception {
        if (oracleChannel != null) {
            oracleChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        // the services stay up for the next class of the run (E2eStack closes them after the last)
    }

    static ManagedChannel channel(int port) {
        return ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    static String sample(String name) throws Exception {
        return Files.readString(Path.of("src", "test", "resources", "e2e", name));
    }

    @Test
    @Order(1)
    void everyServiceAnswersStandardHealthChecks() throws Exception {
        for (var p : List.of(audit, worker, router, oracle)) {
            var ch = channel(p.port);
            try {
                var status = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
                        .check(HealthCheckRequest.newBuilder().build()).getStatus();
                assertThat(status).as(p.name).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @Test
    @Order(2)
    void independentStepsRunInParallelAndCostAtMostTheOracleAlonePlusTheExplorationBudget() throws Exception {
        var request = ExecuteRequest.newBuilder()
                .setTask("Triage this customer support ticket")
                .putInputs("document", sample("double-charge.txt"))
                .build();
        Map<String, Long> started = new HashMap<>();
        Map<String, Long> finished = new HashMap<>();
        ExecuteResponse response = null;
        long lastSequence = 0;
        var events = OracleServiceGrpc.newBlockingStub(oracleChannel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .executeStream(request);
        while (events.hasNext()) {
            TaskEvent e = events.next();
            assertThat(e.getSequence()).isGreaterThan(lastSequence);
            lastSequence = e.getSequence();
            long at = e.getTime().getSeconds() * 1_000_000_000L + e.getTime().getNanos();
            switch (e.getEventCase()) {
                case STEP_STARTED -> started.put(e.getStepStarted().getStepId(), at);
                case STEP_FINISHED -> finished.put(e.getStepFinished().getStepId(), at);
                case TASK_DONE -> response = e.getTaskDone().getResponse();
                default -> { }
            }
        }
        assertThat(response).as("stream ends with task done").isNotNull();
        responses.add(response);
        assertThat(response.getPlan().getPipeline()).isEqualTo("document-triage");

        // The plan's steps with no dependencies run at once: every one starts before any of them finishes.
        List<String> roots = response.getPlan().getStepsList().stream()
                .filter(s -> s.getDependsOnCount() == 0).map(s -> s.getId()).toList();
        assertThat(roots).hasSizeGreaterThanOrEqualTo(3);
        long lastStart = roots.stream().mapToLong(started::get).max().orElseThrow();
        long firstFinish = roots.stream().mapToLong(finished::get).min().orElseThrow();
        assertThat(lastStart).as("independent steps overlap in time").isLessThan(firstFinish);

        // Dependent steps start only after what they depend on finished.
        for (var step : response.getPlan().getStepsList()) {
            for (var dep : step.getDependsOnList()) {
                assertThat(started.get(step.getId())).isGreaterThan(finished.get(dep));
            }
        }
        // A fresh ledger: a step runs on the oracle directly (not audited: the oracle does not review itself) or,
        // when the exploration budget allows, on a worker whose stream is in probation: reviewed, blocking, before
        // its output is accepted.
        assertThat(response.getStepsList()).allSatisfy(s -> {
            assertThat(s.getExecutedBy()).isNotBlank();
            assertThat(s.getConfidence()).isBetween(0.0, 1.0);
            if (s.getAudit().getReason().equals("oracle_output")) {
                assertThat(s.getExecutedBy()).startsWith(ORACLE_MODEL);
                assertThat(s.getAudit().getDecision()).isEqualTo("pass");
            } else {
                assertThat(s.getAudit().getDecision()).isEqualTo("review");
                assertThat(s.getAudit().getReason()).isEqualTo("probation");
                assertThat(s.getAudit().getVerdict()).isIn("accepted", "rejected");
            }
        });
        // The promise from the first task of a fresh ledger on: never more than the oracle alone, beyond the
        // exploration budget (5 % of the all-oracle cost), and the report says what went to exploration.
        var cost = response.getCost();
        assertThat(cost.getAllOracleUsd()).isPositive();
        assertThat(cost.getActualUsd()).isPositive().isLessThanOrEqualTo(1.05 * cost.getAllOracleUsd());
        assertThat(cost.getExplorationUsd()).isBetween(0.0, 0.05 * cost.getAllOracleUsd());
    }

    @Test
    @Order(3)
    void ambiguousTicketsAreReviewedAndRejectedOnesEscalated() throws Exception {
        // Tickets on which the worker's encoder (MiniLM, a third of the exemplars) and the oracle's (BGE, all of
        // them) pick different teams: the review must catch the difference.
        var tickets = List.of("ambiguous-1.txt", "ambiguous-2.txt", "ambiguous-3.txt");
        var stub = OracleServiceGrpc.newBlockingStub(oracleChannel);
        int rejected = 0;
        // A worker gets such a step only when the exploration budget allows it (the rest go to the oracle
        // directly), so the tickets go round until a worker's answer was rejected, at most five times each.
        for (int i = 0; i < 15 && (i < tickets.size() || rejected == 0); i++) {
            var ticket = tickets.get(i % tickets.size());
            var response = stub.withDeadlineAfter(60, TimeUnit.SECONDS).execute(ExecuteRequest.newBuilder()
                    .setTask("Triage this customer support ticket")
                    .putInputs("document", sample(ticket)).build());
            responses.add(response);
            for (StepResult s : response.getStepsList()) {
                if ("rejected".equals(s.getAudit().getVerdict())) {
                    rejected++;
                    assertThat(s.getAudit().getDecision()).isEqualTo("review");
                    assertThat(s.getEscalated()).as(s.getStepId() + " rejected => escalated").isTrue();
                    assertThat(s.getExecutedBy()).startsWith(ORACLE_MODEL);
                } else {
                    assertThat(s.getEscalated()).as(s.getStepId()).isFalse();
                }
            }
        }
        assertThat(rejected).as("the oracle rejects at least one worker output on ambiguous tickets (15 tasks)")
                .isPositive();
    }

    @Test
    @Order(4)
    void onceStreamsEarnTrustWorkersDoTheWorkForLessThanTheOracleAlone() throws Exception {
        // The suite's audit service earns trust after 10 clean reviews (see E2eConfig), so this loop is short.
        var stub = OracleServiceGrpc.newBlockingStub(oracleChannel);
        ExecuteResponse trusted = null;
        for (int i = 0; i < 40 && trusted == null; i++) {
            var response = stub.withDeadlineAfter(60, TimeUnit.SECONDS).execute(ExecuteRequest.newBuilder()
                    .setTask("Triage this customer support ticket")
                    .putInputs("document", sample("double-charge.txt")).build());
            responses.add(response);
            if (response.getStepsList().stream().anyMatch(s -> s.getAudit().getReason().equals("trusted"))) {
                trusted = response;
            }
        }
        assertThat(trusted).as("some stream left probation within 40 tasks").isNotNull();
        var passed = trusted.getStepsList().stream().filter(s -> s.getAudit().getReason().equals("trusted")).toList();
        assertThat(passed).allSatisfy(s -> {
            assertThat(s.getAudit().getReason()).isEqualTo("trusted");
            assertThat(s.getExecutedBy()).doesNotStartWith(ORACLE_MODEL);
            assertThat(s.getEscalated()).isFalse();
        });
        assertThat(trusted.getCost().getActualUsd()).isPositive()
                .isLessThan(trusted.getCost().getAllOracleUsd());
        assertThat(trusted.getCost().getSavingsFraction()).isPositive();
    }

    @Test
    @Order(5)
    void everyAuditDecisionSurvivesAnAuditServiceRestart() throws Exception {
        Map<String, Integer> before = decisionsPerTask();
        // every worker output has its decision; the oracle's own outputs are not audited
        int expected = (int) responses.stream().flatMap(r -> r.getStepsList().stream())
                .filter(st -> !st.getAudit().getReason().equals("oracle_output")).count();
        assertThat(expected).as("worker outputs so far").isPositive();
        assertThat(before.values().stream().mapToInt(Integer::intValue).sum())
                .as("one decision per worker output").isGreaterThanOrEqualTo(expected);

        audit.kill();
        audit.start().awaitReady(Duration.ofSeconds(90));

        assertThat(decisionsPerTask()).isEqualTo(before);
        try (var c = DriverManager.getConnection(PG + DB, "postgres", "");
             var s = c.createStatement();
             var rs = s.executeQuery("select count(*) from decisions")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(before.values().stream().mapToInt(Integer::intValue).sum());
        }

        // and the path still works against the restarted audit service
        var again = OracleServiceGrpc.newBlockingStub(oracleChannel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .execute(ExecuteRequest.newBuilder().setTask("Summarise this document")
                        .putInputs("document", sample("double-charge.txt")).build());
        assertThat(again.getOutput()).isNotBlank();
    }

    @Test
    @Order(6)
    void oneTaskIsOneTraceAcrossTheFourServices() throws Exception {
        var task = OracleServiceGrpc.newBlockingStub(oracleChannel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .execute(ExecuteRequest.newBuilder().setTask("Triage this support ticket")
                        .putInputs("document", sample("double-charge.txt")).build());
        assertThat(task.getStepsCount()).isPositive();

        // trace ids per exporting service, read from the OTLP ExportTraceServiceRequest bodies
        Map<String, Set<ByteString>> traces = new HashMap<>();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Set<ByteString> shared = Set.of();
        while (System.nanoTime() < until) {
            traces.clear();
            for (var request : collector.getAllServeEvents()) {
                readExport(request.getRequest().getBody(), traces);
            }
            shared = new HashSet<>(traces.getOrDefault("oracle-service", Set.of()));
            for (var service : List.of("router-service", "worker-service", "audit-service")) {
                shared.retainAll(traces.getOrDefault(service, Set.of()));
            }
            if (!shared.isEmpty()) {
                break;
            }
            Thread.sleep(250);
        }
        assertThat(traces.keySet()).as("services that exported spans")
                .contains("oracle-service", "router-service", "worker-service", "audit-service");
        var oracleTraces = traces.get("oracle-service");
        assertThat(shared).as("a trace that all four services took part in; traces shared with the oracle's: %s",
                traces.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().stream()
                        .filter(oracleTraces::contains).count() + "/" + e.getValue().size()).toList())
                .isNotEmpty();
    }

    /**
     * Collects (service.name, trace id) pairs from an OTLP trace export. Read by field number (the
     * opentelemetry-proto classes are not on this classpath): ExportTraceServiceRequest.resource_spans = 1;
     * ResourceSpans.resource = 1, .scope_spans = 2; Resource.attributes = 1; KeyValue.key = 1, .value = 2;
     * AnyValue.string_value = 1; ScopeSpans.spans = 2; Span.trace_id = 1.
     */
    @Test
    @Order(7)
    void aLowConfidenceOutputOfATrustedStreamIsReviewedBeforeItIsReleased() throws Exception {
        // Only a stream out of probation gets the confidence rule (in probation every output is reviewed anyway):
        // earn the classify stream's trust with clean verdicts, as the oracle records them, then send it an output
        // its worker cannot be sure of.
        var ch = channel(audit.port);
        try {
            var ledger = AuditServiceGrpc.newBlockingStub(ch);
            var stream = GetStreamRequest.newBuilder().setWorkerBackend("embedded-minilm").setWorkerType("classify")
                    .build();
            for (int i = 0; i < 300 && !isTrusted(ledger.withDeadlineAfter(10, TimeUnit.SECONDS).getStream(stream)
                    .getStream().getState()); i++) {
                var id = "seed-" + i + "/classify";
                ledger.withDeadlineAfter(10, TimeUnit.SECONDS).decide(DecideRequest.newBuilder().setDecisionId(id)
                        .setTaskId("seed-" + i).setStepId("classify").setWorkerBackend("embedded-minilm")
                        .setWorkerType("classify").setConfidence(0.95).setRawConfidence(0.95)
                        .setValidationPassed(true).build());
                ledger.withDeadlineAfter(10, TimeUnit.SECONDS).recordVerdict(RecordVerdictRequest.newBuilder()
                        .setDecisionId(id).setVerdict(Verdict.VERDICT_ACCEPTED).setReviewer(ORACLE_MODEL)
                        .setReason("seeded clean review").build());
            }
            var status = ledger.withDeadlineAfter(10, TimeUnit.SECONDS).getStream(stream).getStream();
            assertThat(isTrusted(status.getState())).as("classify stream state " + status.getState()).isTrue();
        } finally {
            ch.shutdownNow();
        }
        // eight labels the text gives no reason to prefer: no label can take most of the probability
        var plan = Plan.newBuilder().addSteps(PlanStep.newBuilder().setId("guess").setWorkerType("classify")
                .putInputs("text", "{{inputs.document}}")
                .putInputs("labels", "north,south,east,west,up,down,left,right")).build();
        var request = ExecuteRequest.newBuilder().setPlan(plan).putInputs("document", "Please see the attached form.")
                .build();
        var oracleStub = OracleServiceGrpc.newBlockingStub(oracleChannel);
        // The router prices the stream's reviews from its audit poll: a stream that just earned trust reviews every
        // output blocking until the audit's next refit (every 5 s), and the exploration budget admits the worker only
        // while the window can absorb its worst case (a review). Until the router sends this step to the worker, the
        // step runs on the oracle, which adds to the window's budget as the window slides.
        var routerChannel = channel(router.port);
        try {
            var routing = dev.tandem.proto.router.v1.RouterServiceGrpc.newBlockingStub(routerChannel);
            var route = dev.tandem.proto.router.v1.RouteRequest.newBuilder().setWorkerType("classify")
                    .putInputs("text", "Please see the attached form.")
                    .putInputs("labels", "north,south,east,west,up,down,left,right").build();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            var decision = routing.withDeadlineAfter(10, TimeUnit.SECONDS).route(route).getDecision();
            while (!decision.getModelId().equals("embedded-minilm") && System.nanoTime() < until) {
                oracleStub.withDeadlineAfter(60, TimeUnit.SECONDS).execute(request);
                Thread.sleep(200);
                decision = routing.withDeadlineAfter(10, TimeUnit.SECONDS).route(route).getDecision();
            }
            assertThat(decision.getModelId()).as("the router's choice for classify: " + decision.getExplanation())
                    .isEqualTo("embedded-minilm");
        } finally {
            routerChannel.shutdownNow();
        }
        var response = oracleStub.withDeadlineAfter(60, TimeUnit.SECONDS).execute(request);

        var step = response.getSteps(0);
        // the worker's output, or the oracle's when the review rejected it
        assertThat(step.getExecutedBy()).startsWith(step.getEscalated() ? ORACLE_MODEL : "embedded-minilm");
        assertThat(step.getRawConfidence()).as("the worker's raw confidence").isLessThan(0.7);
        assertThat(step.getAudit().getReason()).isEqualTo("low_confidence");
        assertThat(step.getAudit().getDecision()).isEqualTo("review");
        assertThat(step.getAudit().getMode()).isEqualTo("blocking");
        assertThat(step.getAudit().getVerdict()).as("reviewed before release").isIn("accepted", "rejected");

        // One calibrated value per output, the router's with the audit's map of the stream: the StepResult and the
        // ledger carry the same one, for this step (its stream has a map now) and every audited step before it.
        responses.add(response);
        var ledgerChannel = channel(audit.port);
        try {
            var ledger = AuditServiceGrpc.newBlockingStub(ledgerChannel);
            int compared = 0;
            for (var r : responses) {
                Map<String, DecisionRecord> recorded = new HashMap<>();
                ledger.withDeadlineAfter(10, TimeUnit.SECONDS).listDecisions(ListDecisionsRequest.newBuilder()
                        .setTaskId(r.getTaskId()).setPageSize(1000).build()).getDecisionsList()
                        .forEach(d -> recorded.put(d.getStepId(), d));
                for (var s : r.getStepsList()) {
                    var d = recorded.get(s.getStepId());
                    if (d == null) {
                        continue; // the oracle tier is not audited
                    }
                    assertThat(d.getConfidence()).as("%s/%s calibrated", r.getTaskId(), s.getStepId())
                            .isEqualTo(s.getConfidence());
                    assertThat(d.getRawConfidence()).as("%s/%s raw", r.getTaskId(), s.getStepId())
                            .isEqualTo(s.getRawConfidence());
                    compared++;
                }
            }
            assertThat(compared).isPositive();
            var last = ledger.withDeadlineAfter(10, TimeUnit.SECONDS).listDecisions(ListDecisionsRequest.newBuilder()
                    .setTaskId(response.getTaskId()).build()).getDecisionsList();
            assertThat(last).singleElement()
                    .satisfies(d -> assertThat(d.getConfidence()).isEqualTo(step.getConfidence()));
        } finally {
            ledgerChannel.shutdownNow();
        }
    }

    @Test
    @Order(8)
    void sixteenTasksInFlightGetNoErrorBelowSaturation() throws Exception {
        // Moderate concurrency on the four real services: 256 tasks, 16 in flight, three in four a one-step classify
        // (local audit decisions, one batch per task) and one in four the triage pipeline (a DAG of several steps);
        // every answer must be OK. Each call has its own generous deadline, so a stuck call fails as
        // DEADLINE_EXCEEDED and is counted rather than hanging the suite.
        var texts = List.of(sample("double-charge.txt"), sample("ambiguous-1.txt"), sample("ambiguous-2.txt"),
                sample("ambiguous-3.txt"));
        var classify = Plan.newBuilder().addSteps(PlanStep.newBuilder().setId("team").setWorkerType("classify")
                .putInputs("text", "{{inputs.document}}")).build();
        int tasks = 256;
        int inFlight = 16;
        var next = new java.util.concurrent.atomic.AtomicInteger();
        Map<String, Integer> answers = new java.util.concurrent.ConcurrentHashMap<>();
        var stub = OracleServiceGrpc.newBlockingStub(oracleChannel);
        var clients = java.util.concurrent.Executors.newFixedThreadPool(inFlight);
        try {
            var done = new ArrayList<java.util.concurrent.Future<?>>();
            for (int c = 0; c < inFlight; c++) {
                done.add(clients.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < tasks; ) {
                        var request = ExecuteRequest.newBuilder().putInputs("document", texts.get(i % texts.size()));
                        if (i % 4 == 3) {
                            request.setTask("Triage this customer support ticket");
                        } else {
                            request.setPlan(classify);
                        }
                        String answer;
                        try {
                            var response = stub.withDeadlineAfter(60, TimeUnit.SECONDS).execute(request.build());
                            answer = response.getStepsCount() > 0 ? "OK" : "OK without steps";
                        } catch (io.grpc.StatusRuntimeException e) {
                            answer = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
                        }
                        answers.merge(answer, 1, Integer::sum);
                    }
                }));
            }
            for (var f : done) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            clients.shutdownNow();
        }
        assertThat(answers).as("answers of %d tasks, %d in flight", tasks, inFlight)
                .containsExactly(Map.entry("OK", tasks));
        // the packaged oracle decides under the audit's published policies (issue 16: one durable write per task):
        // it watches them, and the audit stores its decisions in RecordDecisions batches (an oracle that never
        // subscribed sent every output to Decide, and no in-process test noticed)
        assertThat(MetricsText.sum(oracle.get("/q/metrics"), "grpc_client_requests_sent_messages_total",
                "method=\"WatchPolicies\"")).as("the oracle's WatchPolicies subscriptions").isPositive();
        assertThat(MetricsText.sum(audit.get("/q/metrics"), "grpc_server_requests_received_messages_total",
                "method=\"RecordDecisions\"")).as("RecordDecisions batches the audit received").isPositive();
    }

    private static boolean isTrusted(TrustState state) {
        return state == TrustState.TRUST_STATE_NORMAL || state == TrustState.TRUST_STATE_REDUCED;
    }

    private static void readExport(byte[] body, Map<String, Set<ByteString>> traces) {
        try {
            for (ByteString resourceSpans : UnknownFieldSet.parseFrom(body).getField(1).getLengthDelimitedList()) {
                var rs = UnknownFieldSet.parseFrom(resourceSpans);
                String service = "";
                for (ByteString resource : rs.getField(1).getLengthDelimitedList()) {
                    for (ByteString kv : UnknownFieldSet.parseFrom(resource).getField(1).getLengthDelimitedList()) {
                        var attribute = UnknownFieldSet.parseFrom(kv);
                        if (attribute.getField(1).getLengthDelimitedList().getFirst().toStringUtf8()
                                .equals("service.name")) {
                            service = UnknownFieldSet.parseFrom(attribute.getField(2).getLengthDelimitedList()
                                    .getFirst()).getField(1).getLengthDelimitedList().getFirst().toStringUtf8();
                        }
                    }
                }
                for (ByteString scopeSpans : rs.getField(2).getLengthDelimitedList()) {
                    for (ByteString span : UnknownFieldSet.parseFrom(scopeSpans).getField(2)
                            .getLengthDelimitedList()) {
                        traces.computeIfAbsent(service, k -> new HashSet<>())
                                .add(UnknownFieldSet.parseFrom(span).getField(1).getLengthDelimitedList().getFirst());
                    }
                }
            }
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            // not a trace export (or another signal): ignored
        }
    }

    private static Map<String, Integer> decisionsPerTask() {
        var ch = channel(audit.port);
        try {
            var stub = AuditServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (var r : responses) {
                counts.put(r.getTaskId(), stub.listDecisions(ListDecisionsRequest.newBuilder()
                        .setTaskId(r.getTaskId()).setPageSize(1000).build()).getDecisionsCount());
            }
            return counts;
        } finally {
            ch.shutdownNow();
        }
    }
}
