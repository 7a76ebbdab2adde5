package dev.tandem.system.e2e;

import com.google.protobuf.Timestamp;
import dev.tandem.models.batch.FakeBatchServer;
import dev.tandem.models.batch.FakeOpenAiBatches;
import dev.tandem.proto.worker.v1.ExecuteStepRequest;
import dev.tandem.proto.worker.v1.ExecuteStepResponse;
import dev.tandem.proto.worker.v1.LatencyClass;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import dev.tandem.system.launch.MetricsText;
import dev.tandem.system.launch.ServiceProcess;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A worker process killed (SIGKILL) while a provider batch of its BATCH-class step is open: the worker runs from its
 * jar with an OpenAI-compatible model that has batch prices, pointed at the wire-faithful fake of OpenAI's Batch API
 * (model-clients' {@link FakeOpenAiBatches}, in this JVM), and a PostgreSQL batch journal in a database of its own.
 * Started again on the same database, it polls the batch on; the router's repeat of the step (the same idempotency
 * key) joins the reloaded item and gets the batch's answer, and the provider saw one batch with one item. Killed
 * after the provider made the batch but before the create's answer reached it (the fake holds the answer), the worker
 * finds the batch after the restart by the journal id it sent as the batch's metadata: again one batch. The control
 * runs the same without a database: the restarted worker knows nothing of the batch and submits the item again
 * (paid twice), which is what the journal removes.
 */
class WorkerBatchRestartIT {

    static final String PG = "jdbc:postgresql://127.0.0.1:5432/";
    /** Its own database: TANDEM_E2E_DB (a checkout's own prefix) with a suffix. */
    static final String DB = System.getenv().getOrDefault("TANDEM_E2E_DB", "tandem_e2e") + "_batch_journal";
    static final String MODEL = "gpt-batch";
    static final String KEY = "acme/task-7/s1/execute@" + MODEL;
    static final String ANSWER = "{\"reasoning\":\"6 x 7 = 42\",\"answer\":\"42\",\"confidence\":0.9}";

    @TempDir
    Path dir;
    private FakeOpenAiBatches provider;
    private ServiceProcess worker;
    private ManagedChannel channel;

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        ServiceProcess.closeAll(worker);
        if (provider != null) {
            provider.close();
        }
    }

    @Test
    void aWorkerKilledWithItsBatchOpenPollsItOnAfterARestartAndTheRepeatGetsTheAnswerOfTheOneBatch()
            throws Exception {
        ServiceProcess.freshDatabase(PG, DB);
        var submitted = killWithTheBatchOpenAndRepeat(true);

        assertThat(submitted.getOutput()).contains("42");
        assertThat(submitted.getUsage().getBatch()).isTrue();
        // one batch create with one item, named after the key: the repeat was answered by the killed worker's item
        assertThat(provider.submittedCustomIds).hasSize(1);
        assertThat(provider.submittedCustomIds.getFirst()).hasSize(1);
        assertThat(provider.cancelled).isEmpty();
        var metrics = worker.get("/q/metrics");
        assertThat(MetricsText.sum(metrics, "tandem_worker_batches_resumed_total", "")).isEqualTo(1);
        assertThat(MetricsText.sum(metrics, "tandem_worker_batches_submitted_total", "")).isZero();
        try (var c = DriverManager.getConnection(PG + DB, "postgres", "");
             var s = c.createStatement();
             var rs = s.executeQuery("SELECT state, count(*) FROM worker.provider_batches GROUP BY state")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("ENDED");
            assertThat(rs.getLong(2)).isEqualTo(1);
            assertThat(rs.next()).isFalse();
        }
    }

    @Test
    void aWorkerKilledAfterTheProviderMadeItsBatchButBeforeItLearntTheIdFindsItAfterTheRestartAndPaysOnce()
            throws Exception {
        ServiceProcess.freshDatabase(PG, DB);
        provider = new FakeOpenAiBatches();
        provider.script = (message, submission) -> new FakeBatchServer.Fate.Answer(ANSWER);
        provider.pollsBeforeEnd = 3;
        var held = new java.util.concurrent.CountDownLatch(1);
        provider.createsHeld = held; // the create makes the batch and holds its answer: the worker waits for the id
        worker = new ServiceProcess("worker-service", ServiceProcess.freePort(), config(true),
                "worker-service-batch-intent");
        ServiceProcess.startAll(Duration.ofSeconds(90), worker);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", worker.port).usePlaintext().build();
        WorkerServiceGrpc.newFutureStub(channel).withDeadlineAfter(10, TimeUnit.MINUTES).executeStep(step());
        assertThat(held.await(60, TimeUnit.SECONDS)).isTrue();
        // the crash between the provider's create and the journal update: the journal holds the intent, no batch id
        worker.kill();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        provider.releaseCreates();
        try (var c = DriverManager.getConnection(PG + DB, "postgres", "");
             var s = c.createStatement();
             var rs = s.executeQuery("SELECT count(*) FROM worker.provider_batches WHERE batch_id IS NULL")) {
            rs.next();
            assertThat(rs.getLong(1)).as("the intent, journaled before the create").isOne();
        }

        worker.start();
        worker.awaitReady(Duration.ofSeconds(90));
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", worker.port).usePlaintext().build();
        var repeat = WorkerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES)
                .executeStep(step());

        assertThat(repeat.getOutput()).contains("42");
        // found by its journal id (GET /v1/batches, the batch's metadata), polled on and joined: one batch
        assertThat(provider.requestLines).contains("GET /v1/batches");
        assertThat(provider.submittedCustomIds).hasSize(1);
        var metrics = worker.get("/q/metrics");
        assertThat(MetricsText.sum(metrics, "tandem_worker_batch_intents_resolved_total", "outcome=\"created\""))
                .isEqualTo(1);
        assertThat(MetricsText.sum(metrics, "tandem_worker_batches_resumed_total", "")).isEqualTo(1);
    }

    @Test
    void withoutADatabaseTheRestartedWorkerSubmitsTheItemAgainAndTheProviderBillsTwoBatches() throws Exception {
        var submitted = killWithTheBatchOpenAndRepeat(false);

        assertThat(submitted.getOutput()).contains("42");
        // the limit the journal removes: the killed worker's batch runs on at the provider, unpolled, and the repeat
        // is a second batch with the same item
        assertThat(provider.submittedCustomIds).hasSize(2);
        assertThat(provider.submittedCustomIds.get(1)).isEqualTo(provider.submittedCustomIds.getFirst());
        assertThat(MetricsText.sum(worker.get("/q/metrics"), "tandem_worker_batches_resumed_total", "")).isZero();
    }

    /**
     * Starts the fake provider and the worker, sends the step, SIGKILLs the worker once the provider's batch is
     * polled (open), starts it again and sends the repeat, which returns once the batch (the first or a second) ended.
     */
    private ExecuteStepResponse killWithTheBatchOpenAndRepeat(boolean journal) throws Exception {
        provider = new FakeOpenAiBatches();
        provider.script = (message, submission) -> new FakeBatchServer.Fate.Answer(ANSWER);
        provider.pollsBeforeEnd = 1_000_000; // open until the worker is killed
        worker = new ServiceProcess("worker-service", ServiceProcess.freePort(), config(journal),
                "worker-service-batch-" + (journal ? "journal" : "memory"));
        ServiceProcess.startAll(Duration.ofSeconds(90), worker);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", worker.port).usePlaintext().build();

        // the first call: its caller (a router) is gone with the worker; it waits for the batch until then
        WorkerServiceGrpc.newFutureStub(channel).withDeadlineAfter(10, TimeUnit.MINUTES).executeStep(step());
        waitFor(() -> provider.requestLines.stream().anyMatch(l -> l.matches("GET /v1/batches/batch_\\d+")));
        worker.kill();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

        provider.pollsBeforeEnd = 3; // the provider ends the batch a few polls after the restart
        worker.start();
        worker.awaitReady(Duration.ofSeconds(90));
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", worker.port).usePlaintext().build();
        // the router's repeat of the step after its call was reset: the same key and request
        return WorkerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.MINUTES).executeStep(step());
    }

    private Map<String, String> config(boolean journal) throws Exception {
        var key = dir.resolve("openai-key");
        Files.writeString(key, "sk-test");
        var p = new LinkedHashMap<String, String>();
        var entry = "tandem.catalog.models.\"" + MODEL + "\".";
        p.put(entry + "provider", "openai");
        p.put(entry + "base-url", provider.baseUrl() + "/v1");
        p.put(entry + "model", "gpt-4o-mini");
        p.put(entry + "api-key-file", key.toString());
        p.put(entry + "capabilities", "generation,json_schema");
        p.put(entry + "input-usd-per-mtok", "0.15");
        p.put(entry + "output-usd-per-mtok", "0.60");
        // batch prices: BATCH-class calls of the model go through the provider's batch API
        p.put(entry + "batch-input-usd-per-mtok", "0.075");
        p.put(entry + "batch-output-usd-per-mtok", "0.30");
        p.put("tandem.worker.batch.max-wait", "100ms");
        p.put("tandem.worker.batch.poll-interval", "200ms");
        if (journal) {
            p.put("quarkus.datasource.jdbc.url", PG + DB);
            p.put("quarkus.datasource.username", "postgres");
        }
        return p;
    }

    private static ExecuteStepRequest step() {
        return ExecuteStepRequest.newBuilder().setTaskId("task-7").setStepId("s1").setWorkerType("answer")
                .putInputs("question", "What is 6 x 7?").setModelId(MODEL).setAttempt(1)
                .setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH)
                .setBatchDeadline(Timestamp.newBuilder().setSeconds(Instant.now().plusSeconds(3600).getEpochSecond()))
                .setIdempotencyKey(KEY).build();
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("condition not met within 60 s");
            }
            Thread.sleep(50);
        }
    }
}
