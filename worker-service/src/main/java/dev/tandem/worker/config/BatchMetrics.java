package dev.tandem.worker.config;

import dev.tandem.models.batch.BatchListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;

/**
 * The worker's batch meters: batches submitted [tandem_worker_batches_submitted_total{provider,model}], their
 * turnaround from submission to results [tandem_worker_batch_turnaround_seconds{provider,model}], their items by
 * outcome [tandem_worker_batch_items_total{provider,model,outcome}]; from the journal: batches resumed after a
 * restart [tandem_worker_batches_resumed_total{provider,model}], items answered with no caller waiting and recorded
 * [tandem_worker_batch_items_collected_total{provider,model}], calls answered from the record
 * [tandem_worker_batch_journal_answers_total{provider,model}], intents a stopped worker left, resolved with the
 * provider [tandem_worker_batch_intents_resolved_total{provider,model,outcome}], and journal failures
 * [tandem_worker_batch_journal_failures_total{operation}].
 */
final class BatchMetrics implements BatchListener {

    private final MeterRegistry registry;

    BatchMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void submitted(String provider, String modelId, int items) {
        Counter.builder("tandem.worker.batches.submitted").description("Provider batches submitted")
                .tag("provider", provider).tag("model", modelId).register(registry).increment();
    }

    @Override
    public void ended(String provider, String modelId, Duration turnaround, int succeeded, int errored, int expired,
                      int cancelled) {
        Timer.builder("tandem.worker.batch.turnaround").description("From a batch's submission to its results")
                .tag("provider", provider).tag("model", modelId).register(registry).record(turnaround);
        items(provider, modelId, "succeeded", succeeded);
        items(provider, modelId, "errored", errored);
        items(provider, modelId, "expired", expired);
        items(provider, modelId, "cancelled", cancelled);
    }

    @Override
    public void resumed(String provider, String modelId, int items) {
        Counter.builder("tandem.worker.batches.resumed").description("Open provider batches polled on from the journal")
                .tag("provider", provider).tag("model", modelId).register(registry).increment();
    }

    @Override
    public void collected(String provider, String modelId, int items) {
        Counter.builder("tandem.worker.batch.items.collected")
                .description("Batch items answered with no caller waiting, recorded for a repeat of their key")
                .tag("provider", provider).tag("model", modelId).register(registry).increment(items);
    }

    @Override
    public void answeredFromJournal(String provider, String modelId) {
        Counter.builder("tandem.worker.batch.journal.answers")
                .description("Keyed batch calls answered from the journal's record: no new provider item")
                .tag("provider", provider).tag("model", modelId).register(registry).increment();
    }

    @Override
    public void intentResolved(String provider, String modelId, String outcome) {
        Counter.builder("tandem.worker.batch.intents.resolved")
                .description("Batch intents left by a stopped worker (a crash between create and journal update), "
                        + "resolved with the provider: created, not_created, unknown")
                .tag("provider", provider).tag("model", modelId).tag("outcome", outcome).register(registry).increment();
    }

    @Override
    public void journalFailed(String operation) {
        Counter.builder("tandem.worker.batch.journal.failures").description("Batch journal reads and writes that failed")
                .tag("operation", operation).register(registry).increment();
    }

    private void items(String provider, String modelId, String outcome, int count) {
        Counter.builder("tandem.worker.batch.items").description("Items of ended provider batches, by outcome")
                .tag("provider", provider).tag("model", modelId).tag("outcome", outcome).register(registry)
                .increment(count);
    }
}
