package dev.tandem.worker;

import com.google.protobuf.Timestamp;
import dev.tandem.proto.worker.v1.LatencyClass;
import dev.tandem.proto.worker.v1.WorkerServiceGrpc;
import dev.tandem.models.batch.BatchJournal;
import dev.tandem.worker.repository.BatchJournalRepository;
import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.InjectableInstance;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static dev.tandem.worker.ExecuteStepTests.step;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * BATCH-class steps at the worker: on a model whose catalog entry has batch prices (the cheap embedded model in the
 * test profile) the response's usage says the call took the batch path, which the router bills at the batch prices;
 * an interactive step on it, or a batch-class step on a model without batch prices, is an ordinary call. The test
 * profile configures no database: the worker runs as before the batch journal, with the journal in memory.
 */
@QuarkusTest
class BatchStepTests {

    private static final Map<String, String> TICKET = Map.of("text",
            "Hello, I was charged twice on my credit card for the March invoice, please refund one payment.");

    @GrpcClient("worker")
    WorkerServiceGrpc.WorkerServiceBlockingStub worker;

    private static Timestamp inAnHour() {
        return Timestamp.newBuilder().setSeconds(Instant.now().plusSeconds(3600).getEpochSecond()).build();
    }

    @Test
    void aBatchClassStepOnAModelWithBatchPricesReportsItsUsageAsBatch() {
        var batch = worker.executeStep(step("classify", TICKET, "embedded-minilm")
                .setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH).setBatchDeadline(inAnHour()).build());
        assertThat(batch.getUsage().getBatch()).isTrue();
        assertThat(batch.getUsage().getInputTokens()).isPositive();

        var interactive = worker.executeStep(step("classify", TICKET, "embedded-minilm").build());
        assertThat(interactive.getUsage().getBatch()).isFalse();
        assertThat(interactive.getOutput()).isEqualTo(batch.getOutput());
    }

    @Inject
    BatchJournal journal;
    @Inject
    InjectableInstance<AgroalDataSource> dataSources;

    @Test
    void withoutADatabaseTheWorkerStartsAndKeepsItsBatchJournalInMemory() {
        assertThat(dataSources.listActive()).isEmpty();
        assertThat(journal).isNotInstanceOf(BatchJournalRepository.class);
        assertThat(journal.claimOpen()).isEmpty();
    }

    @Test
    void aBatchClassStepOnAModelWithoutBatchPricesIsAnOrdinaryCall() {
        var response = worker.executeStep(step("classify", TICKET, "embedded-bge-oracle")
                .setLatencyClass(LatencyClass.LATENCY_CLASS_BATCH).setBatchDeadline(inAnHour()).build());
        assertThat(response.getUsage().getBatch()).isFalse();
    }
}
